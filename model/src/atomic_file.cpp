#include "lutc/model/atomic_file.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lutc/model/error.h"

namespace lutc {
namespace {

[[noreturn]] void fail_io(const std::string& what, const std::string& path, int err) {
  throw Error(ExitCode::kIo, "cannot " + what + " '" + path + "': " + std::strerror(err));
}

std::string parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A temp name beside `path`: prefix + base name + suffix, with the base cut
// so the whole name fits one file-name component (255 bytes on Linux file
// systems). Appending the suffix to a legal 230-255-byte name would make
// creating the temp file fail where writing the target itself works.
std::string temp_sibling(const std::string& path, const std::string& prefix, const std::string& suffix) {
  constexpr size_t kNameMax = 255;
  std::string base = base_name(path);
  const size_t room = kNameMax > prefix.size() + suffix.size() ? kNameMax - prefix.size() - suffix.size() : 0;
  if (base.size() > room) base.resize(room);
  return parent_dir(path) + "/" + prefix + base + suffix;
}

// Unique within the process (counter) and across processes (pid, clock), so
// concurrent writers to the same target never share a temp file. O_EXCL
// below turns any remaining collision into a retry instead of a clobber.
std::string temp_name_for(const std::string& path, unsigned attempt) {
  static std::atomic<uint64_t> counter{0};
  const uint64_t n = counter.fetch_add(1);
  const uint64_t t = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  return temp_sibling(path, "", ".tmp." + std::to_string(::getpid()) + "." + std::to_string(n) + "." +
                                    std::to_string((t ^ (uint64_t(attempt) << 40)) & 0xffffffffu));
}

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Error(kUsage) unless `path` is absent or an empty folder (or `replace` and a folder).
void check_target_folder(const std::string& path, bool replace) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(path, ec);
  if (ec || !fs::exists(st)) return;
  if (!fs::is_directory(st))
    throw Error(ExitCode::kUsage, "output '" + path + "' exists and is not a folder");
  if (!replace && !fs::is_empty(path, ec))
    throw Error(ExitCode::kUsage, "output folder '" + path + "' exists and is not empty (--force replaces it)");
}

}  // namespace

AtomicFile::AtomicFile(const std::string& path) : path_(path) {
  if (path.empty()) throw Error(ExitCode::kIo, "cannot write a file with an empty path");
  int fd = -1;
  for (unsigned attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    tmp_ = temp_name_for(path, attempt);
    // 0666 lets the umask decide permissions, as for any ordinary new file.
    fd = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) fail_io("create a temp file for", path, errno);
  }
  if (fd < 0) fail_io("create a temp file for", path, EEXIST);
  f_ = ::fdopen(fd, "wb");
  if (!f_) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp_.c_str());
    fail_io("open a stream for", path, err);
  }
}

AtomicFile::~AtomicFile() {
  if (f_) std::fclose(f_);
  if (!committed_ && !tmp_.empty()) ::unlink(tmp_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  if (!f_) throw Error(ExitCode::kInternal, "write to '" + path_ + "' after commit");
  if (n == 0) return;
  if (std::fwrite(data, 1, n, f_) != n) {
    throw Error(ExitCode::kIo, "cannot write '" + path_ + "' (temp file '" + tmp_ +
                                   "'): " + std::strerror(errno));
  }
  written_ += n;
}

void AtomicFile::commit() {
  if (!f_) throw Error(ExitCode::kInternal, "'" + path_ + "' committed twice");
  std::FILE* f = f_;
  f_ = nullptr;  // from here on the stream is closed whatever happens
  int err = 0;
  if (std::fflush(f) != 0) err = errno;
  // fsync before rename: otherwise a crash can leave the new name pointing at
  // a file whose data never reached the disk.
  if (!err && ::fsync(::fileno(f)) != 0) err = errno;
  if (std::fclose(f) != 0 && !err) err = errno;
  if (err) fail_io("write", path_, err);
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail_io("rename a temp file onto", path_, errno);
  committed_ = true;
  // Make the rename itself durable; failure here loses nothing already visible.
  const int dir = ::open(parent_dir(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}


AtomicFolder::AtomicFolder(const std::string& path, bool replace) : path_(path), replace_(replace) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p.empty()) throw Error(ExitCode::kIo, "cannot write a folder with an empty path");
  path_ = p;
  check_target_folder(path_, replace_);
  // Beside the target, so the final rename never crosses a file system.
  std::string tmpl = temp_sibling(path_, ".", ".tmp.XXXXXX");
  if (!::mkdtemp(tmpl.data())) fail_io("create a temp folder for", path_, errno);
  tmp_ = tmpl;
}

AtomicFolder::~AtomicFolder() {
  if (committed_ || tmp_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(tmp_, ec);
}

void AtomicFolder::commit() {
  if (committed_) throw Error(ExitCode::kInternal, "'" + path_ + "' committed twice");
  check_target_folder(path_, replace_);
  // mkdtemp made it 0700; give it the permissions of any new folder.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(tmp_.c_str(), 0777 & ~mask);
  fsync_path(tmp_, O_RDONLY | O_DIRECTORY);
  std::error_code ec;
  const bool exists = std::filesystem::exists(path_, ec);
  if (exists && replace_ && !std::filesystem::is_empty(path_, ec)) {
    // Swap the two folders in one step, then remove the old one (now at tmp_).
    if (::renameat2(AT_FDCWD, tmp_.c_str(), AT_FDCWD, path_.c_str(), RENAME_EXCHANGE) != 0)
      fail_io("swap the new folder in for", path_, errno);
    committed_ = true;
    std::filesystem::remove_all(tmp_, ec);
  } else {
    // rename() replaces an empty folder and fails on a non-empty one.
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail_io("rename a temp folder onto", path_, errno);
    committed_ = true;
  }
  fsync_path(parent_dir(path_), O_RDONLY | O_DIRECTORY);
}

void refuse_output_over_input(const std::string& output, const std::string& flag,
                              const std::vector<std::string>& inputs) {
  struct stat out;
  if (output.empty() || ::stat(output.c_str(), &out) != 0 || !S_ISREG(out.st_mode)) return;
  auto same = [&](const std::string& p) {
    struct stat in;
    return ::stat(p.c_str(), &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino;
  };
  for (const std::string& input : inputs) {
    if (input.empty()) continue;
    std::error_code ec;
    if (std::filesystem::is_directory(input, ec)) {
      for (const auto& e : std::filesystem::directory_iterator(input, ec))
        if (same(e.path().string()))
          throw Error(ExitCode::kUsage, flag + " '" + output + "' is '" + e.path().string() + "' of the input folder '" +
                                            input + "': refusing to overwrite an input");
    } else if (same(input)) {
      throw Error(ExitCode::kUsage,
                  flag + " '" + output + "' is the input '" + input + "' (the same file): refusing to overwrite an input");
    }
  }
}

}  // namespace lutc

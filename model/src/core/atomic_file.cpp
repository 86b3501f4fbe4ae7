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
#include "lutc/model/temp_paths.h"

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
  if (!fs::is_directory(st)) throw Error(ExitCode::kUsage, "output '" + path + "' exists and is not a folder");
  if (!replace && !fs::is_empty(path, ec))
    throw Error(ExitCode::kUsage, "output folder '" + path + "' exists and is not empty (--force replaces it)");
}

}  // namespace

AtomicFile::AtomicFile(const std::string& path) : path_(path) {
  if (path.empty()) throw Error(ExitCode::kIo, "cannot write a file with an empty path");
  remove_stale_temps(parent_dir(path));
  int fd = -1;
  for (unsigned attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    tmp_ = temp_path_beside(path, /*hidden=*/false, attempt);
    // Registered before it exists, so no signal can come between the two
    // and leave it behind (removing a name not yet created is harmless).
    live_.set(tmp_, /*folder=*/false);
    // 0666 lets the umask decide permissions, as for any ordinary new file.
    fd = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) {
      const int err = errno;
      live_.release();
      tmp_.clear();
      fail_io("create a temp file for", path, err);
    }
  }
  if (fd < 0) {
    live_.release();
    tmp_.clear();
    fail_io("create a temp file for", path, EEXIST);
  }
  f_ = ::fdopen(fd, "wb");
  if (!f_) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp_.c_str());
    live_.release();
    tmp_.clear();
    fail_io("open a stream for", path, err);
  }
}

AtomicFile::~AtomicFile() {
  if (f_) std::fclose(f_);
  if (!committed_ && !tmp_.empty()) ::unlink(tmp_.c_str());
  live_.release();
}

void AtomicFile::write(const void* data, size_t n) {
  if (!f_) throw Error(ExitCode::kInternal, "write to '" + path_ + "' after commit");
  if (n == 0) return;
  if (std::fwrite(data, 1, n, f_) != n) {
    throw Error(ExitCode::kIo, "cannot write '" + path_ + "' (temp file '" + tmp_ + "'): " + std::strerror(errno));
  }
  written_ += n;
}

void AtomicFile::finish() {
  if (finished_) return;
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
  finished_ = true;
}

void AtomicFile::commit() {
  if (committed_) throw Error(ExitCode::kInternal, "'" + path_ + "' committed twice");
  finish();
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail_io("rename a temp file onto", path_, errno);
  committed_ = true;
  live_.release();
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
  remove_stale_temps(parent_dir(path_));
  // Beside the target, so the final rename never crosses a file system.
  for (unsigned attempt = 0; attempt < 16 && tmp_.empty(); ++attempt) {
    const std::string tmp = temp_path_beside(path_, /*hidden=*/true, attempt);
    live_.set(tmp, /*folder=*/true);
    if (::mkdir(tmp.c_str(), 0700) == 0)
      tmp_ = tmp;
    else if (errno != EEXIST) {
      const int err = errno;
      live_.release();
      fail_io("create a temp folder for", path_, err);
    }
  }
  if (tmp_.empty()) {
    live_.release();
    fail_io("create a temp folder for", path_, EEXIST);
  }
}

AtomicFolder::~AtomicFolder() {
  if (!committed_ && !tmp_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(tmp_, ec);
  }
  live_.release();
}

void AtomicFolder::commit() {
  if (committed_) throw Error(ExitCode::kInternal, "'" + path_ + "' committed twice");
  check_target_folder(path_, replace_);
  // Made 0700 (private while it fills); give it the permissions of any new folder.
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
    std::filesystem::remove_all(tmp_, ec);  // the old folder; a signal meanwhile removes it too
  } else {
    // rename() replaces an empty folder and fails on a non-empty one.
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail_io("rename a temp folder onto", path_, errno);
    committed_ = true;
    live_.release();
  }
  live_.release();
  fsync_path(parent_dir(path_), O_RDONLY | O_DIRECTORY);
}

void check_can_create_in(const std::string& dir, const std::string& for_path) {
  const std::string probe = temp_path_beside(dir + "/probe", /*hidden=*/true, 0);
  LiveTemp live;
  live.set(probe, /*folder=*/false);
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    const std::string where = dir == for_path ? "'" + dir + "'" : "folder '" + dir + "' (for '" + for_path + "')";
    throw Error(ExitCode::kIo, "cannot write into " + where + ": " + std::strerror(err));
  }
  ::close(fd);
  ::unlink(probe.c_str());
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
          throw Error(ExitCode::kUsage, flag + " '" + output + "' is '" + e.path().string() +
                                            "' of the input folder '" + input + "': refusing to overwrite an input");
    } else if (same(input)) {
      throw Error(ExitCode::kUsage, flag + " '" + output + "' is the input '" + input +
                                        "' (the same file): refusing to overwrite an input");
    }
  }
}

}  // namespace lutc

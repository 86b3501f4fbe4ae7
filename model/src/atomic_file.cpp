#include "lutc/model/atomic_file.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "lutc/model/error.h"

namespace lutc {
namespace {

[[noreturn]] void fail_io(const std::string& what, const std::string& path, int err) {
  throw Error(ExitCode::kIo, "cannot " + what + " '" + path + "': " + std::strerror(err));
}

// Unique within the process (counter) and across processes (pid, clock), so
// concurrent writers to the same target never share a temp file. O_EXCL
// below turns any remaining collision into a retry instead of a clobber.
std::string temp_name_for(const std::string& path, unsigned attempt) {
  static std::atomic<uint64_t> counter{0};
  const uint64_t n = counter.fetch_add(1);
  const uint64_t t = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(n) + "." +
         std::to_string((t ^ (uint64_t(attempt) << 40)) & 0xffffffffu);
}

std::string parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
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

}  // namespace lutc

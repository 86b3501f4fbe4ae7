#include "core/mapped_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lutc/model/error.h"

namespace lutc {
namespace {

[[noreturn]] void fail_io(const std::string& path, const char* what, int err) {
  throw Error(ExitCode::kIo, "cannot " + std::string(what) + " '" + path + "': " + std::strerror(err));
}

// Closes the descriptor on every path out of the constructor; the mapping
// stays valid after close.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

}  // namespace

MappedFile::MappedFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_io(path, "open", errno);
  FdCloser closer{fd};

  struct stat st;
  if (::fstat(fd, &st) != 0) fail_io(path, "stat", errno);
  if (!S_ISREG(st.st_mode)) throw Error(ExitCode::kIo, "cannot read '" + path + "': not a regular file");
  if (st.st_size == 0) fail_input(path, "", -1, "file is empty");

  size_ = uint64_t(st.st_size);
  if (size_ > uint64_t(SIZE_MAX)) throw Error(ExitCode::kIo, "cannot map '" + path + "': file too large");
  void* p = ::mmap(nullptr, size_t(size_), PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) fail_io(path, "map", errno);
  data_ = static_cast<const uint8_t*>(p);
}

void MappedFile::release(uint64_t at, uint64_t n) const {
  if (!data_ || at >= size_) return;
  n = std::min(n, size_ - at);
  const uint64_t page = uint64_t(::sysconf(_SC_PAGESIZE));
  const uint64_t begin = at / page * page, end = std::min(size_, (at + n + page - 1) / page * page);
  // Advice only: a failure leaves the pages resident, nothing else changes.
  ::madvise(const_cast<uint8_t*>(data_) + begin, size_t(end - begin), MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_t(size_));
}

}  // namespace lutc

#pragma once
// Output files appear whole or not at all: bytes go to a temp file beside the
// target, which is renamed over it on commit(). A writer destroyed without
// commit() (an exception, a failed check) removes its temp file.
#include <cstdint>
#include <cstdio>
#include <string>

namespace lutc {

class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);  // throws Error(kIo) if the temp file cannot be made
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  uint64_t bytes_written() const { return written_; }
  void commit();  // flush, fsync, close, rename; throws Error(kIo)

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  uint64_t written_ = 0;
  bool committed_ = false;
};

}  // namespace lutc

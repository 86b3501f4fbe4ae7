#pragma once
// A whole file mapped read-only. Weight files can be far larger than memory;
// mapping lets readers touch only the pages of the rows they convert.
#include <cstddef>
#include <cstdint>
#include <string>

namespace lutc {

class MappedFile {
 public:
  // Throws Error(kIo) when the file cannot be opened or mapped, and
  // Error(kBadInput) when it is empty (nothing to map, nothing to read).
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Drops the pages covering [at, at + n) from memory (they are read again
  // from the file if touched), so a reader that walks a large file record by
  // record keeps only the record in hand resident.
  void release(uint64_t at, uint64_t n) const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace lutc

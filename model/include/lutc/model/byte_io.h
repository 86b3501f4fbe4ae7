#pragma once
// Little-endian byte I/O for the project's binary containers (.xfp, .lutp)
// and the GGUF header reader:
// one writer, and one bounds-checked reader whose every length is checked
// against what remains before it is used (so a corrupt length can never drive
// an allocation) and whose errors name the file, the record and the absolute
// offset. Fields are written and read one byte at a time, so neither format
// depends on the host's byte order.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lutc/model/error.h"

namespace lutc {

// Appends little-endian fields to a byte vector it does not own.
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { le(v, 2); }
  void u32(uint32_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void i32(int32_t v) { le(uint32_t(v), 4); }
  void bytes(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  // Overwrites an n-byte placeholder written earlier at `at`.
  void patch(size_t at, uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; ++i) out_[at + i] = uint8_t(v >> (8 * i));
  }
  size_t size() const { return out_.size(); }
  const uint8_t* data() const { return out_.data(); }

 private:
  void le(uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; ++i) out_.push_back(uint8_t(v >> (8 * i)));
  }
  std::vector<uint8_t>& out_;
};

// Reads [pos, end) of `data` (the whole file), with absolute offsets. Errors
// are Error(kBadInput) naming `file`, the record and the offset. `what` names
// the field in errors; it is only turned into a string on failure.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, uint64_t pos, uint64_t end, const std::string& file, std::string record = "")
      : d_(data), pos_(pos), end_(end), file_(file), record_(std::move(record)) {}

  [[noreturn]] void fail(uint64_t at, const std::string& what) const {
    fail_input(file_, record_, (long long)at, what);
  }
  [[noreturn]] void fail(const std::string& what) const { fail(pos_, what); }
  uint64_t pos() const { return pos_; }
  uint64_t end() const { return end_; }
  uint64_t remaining() const { return end_ - pos_; }
  void set_layer(const std::string& name) { record_ = name; }
  const std::string& layer() const { return record_; }
  const std::string& file() const { return file_; }
  const uint8_t* data() const { return d_; }

  void need(uint64_t n, std::string_view what) const {
    if (n > remaining())
      fail(pos_, "truncated: " + std::string(what) + " needs " + std::to_string(n) + " bytes, only " +
                     std::to_string(remaining()) + " remain");
  }
  const uint8_t* take(uint64_t n, std::string_view what) {
    need(n, what);
    const uint8_t* p = d_ + pos_;
    pos_ += n;
    return p;
  }
  uint64_t le(unsigned n, std::string_view what) {
    const uint8_t* p = take(n, what);
    uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) v |= uint64_t(p[i]) << (8 * i);
    return v;
  }
  uint8_t u8(std::string_view what) { return uint8_t(le(1, what)); }
  uint16_t u16(std::string_view what) { return uint16_t(le(2, what)); }
  uint32_t u32(std::string_view what) { return uint32_t(le(4, what)); }
  uint64_t u64(std::string_view what) { return le(8, what); }
  // A string after its u64 byte length, which must not exceed `max` (GGUF).
  std::string str_u64(std::string_view what, uint64_t max) {
    const uint64_t at = pos_;
    const uint64_t n = u64(std::string(what) + " length");
    if (n > max)
      fail(at, std::string(what) + " length " + std::to_string(n) + " exceeds the limit of " + std::to_string(max));
    const uint8_t* b = take(n, what);
    return std::string(reinterpret_cast<const char*>(b), size_t(n));
  }
  // Refuses a `count` read at `at` when that many items of at least
  // `min_bytes` each cannot fit in what remains: a corrupt count never sizes
  // an allocation or a loop.
  void check_count(uint64_t at, uint64_t count, uint64_t min_bytes, std::string_view what) const {
    if (count > remaining() / min_bytes)
      fail(at, std::string(what) + " " + std::to_string(count) + " needs at least " + std::to_string(min_bytes) +
                   " bytes each but only " + std::to_string(remaining()) + " bytes remain");
  }
  // The region must end here: `what` names it in the error.
  void done(std::string_view what) const {
    if (pos_ != end_) fail(std::string(what) + ": " + std::to_string(end_ - pos_) + " unexpected trailing bytes");
  }

 private:
  const uint8_t* d_;
  uint64_t pos_, end_;
  const std::string& file_;
  std::string record_;
};

}  // namespace lutc

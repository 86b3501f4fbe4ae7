#pragma once
// Whole files as bytes, for tests that cut, patch and rewrite containers.
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace lutc::testing {

inline std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
// The first n bytes of b, as the whole file.
inline void spit(const std::string& path, const std::vector<uint8_t>& b, size_t n) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(n));
}
inline uint64_t get_le(const std::vector<uint8_t>& b, size_t at, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i) v |= uint64_t(b[at + i]) << (8 * i);
  return v;
}
inline void put_le(std::vector<uint8_t>& b, size_t at, uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; ++i) b[at + i] = uint8_t(v >> (8 * i));
}

}  // namespace lutc::testing

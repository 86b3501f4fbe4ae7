#pragma once
// NumPy .npy files for activation and output vectors: little-endian float32
// ('<f4') or bf16 stored as uint16 ('<u2'), 1-D (one vector) or 2-D (batch x
// cols), C order, format version 1.0-3.0. Anything else is rejected with
// Error(kBadInput) naming the file and the byte offset.
#include <cstdint>
#include <string>
#include <vector>

namespace lutc {

struct NpyArray {
  std::vector<uint64_t> shape;  // 1 or 2 dims
  std::vector<float> data;      // row-major; bf16 inputs are widened exactly, float64 ones rounded to float
  bool from_bf16 = false;
  uint64_t data_offset = 0;  // where element 0 starts in the file
  uint32_t elem_bytes = 4;   // as stored: 2 (bf16), 4 or 8
  uint64_t rows() const { return shape.size() == 2 ? shape[0] : 1; }
  uint64_t cols() const { return shape.empty() ? 0 : shape.back(); }
  // Byte offset of element i in the file, for messages about it.
  uint64_t offset_of(uint64_t i) const { return data_offset + i * elem_bytes; }
  // "(2, 64)", as NumPy prints the shape.
  std::string shape_text() const;
};

NpyArray read_npy(const std::string& path);
NpyArray parse_npy(const uint8_t* bytes, size_t n, const std::string& origin);

// Writes float32 ('<f4'), atomically (temp file, then rename).
void write_npy(const std::string& path, const std::vector<uint64_t>& shape, const float* data);
// Writes bf16 bit patterns as '<u2'.
void write_npy_bf16(const std::string& path, const std::vector<uint64_t>& shape, const uint16_t* data);

}  // namespace lutc

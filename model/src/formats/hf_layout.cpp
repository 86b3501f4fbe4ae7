#include "lutc/model/hf_layout.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "lutc/model/error.h"

namespace lutc {
namespace {

void check(uint64_t rows, uint32_t head_size) {
  if (head_size == 0 || head_size % 2 || rows % head_size) {
    throw Error(ExitCode::kBadInput, "q/k RoPE row permutation: " + std::to_string(rows) +
                                         " rows are not whole heads of an even size " + std::to_string(head_size));
  }
}

// Row `r` of the interleaved layout goes to row `to_half(r)` of the half layout.
uint64_t to_half(uint64_t r, uint32_t hs) {
  const uint64_t head = r / hs, c = r % hs;
  return head * hs + (c % 2) * (hs / 2) + c / 2;
}

}  // namespace

void rope_rows_interleaved_to_half(const float* in, float* out, uint64_t rows, uint64_t cols, uint32_t head_size) {
  check(rows, head_size);
  for (uint64_t r = 0; r < rows; ++r) std::copy_n(in + r * cols, cols, out + to_half(r, head_size) * cols);
}

void rope_row_bytes_interleaved_to_half(const uint8_t* in, uint8_t* out, uint64_t rows, uint64_t row_bytes,
                                        uint32_t head_size) {
  check(rows, head_size);
  for (uint64_t r = 0; r < rows; ++r)
    std::memcpy(out + to_half(r, head_size) * row_bytes, in + r * row_bytes, row_bytes);
}

void rope_rows_half_to_interleaved(const float* in, float* out, uint64_t rows, uint64_t cols, uint32_t head_size) {
  check(rows, head_size);
  for (uint64_t r = 0; r < rows; ++r) std::copy_n(in + to_half(r, head_size) * cols, cols, out + r * cols);
}

}  // namespace lutc

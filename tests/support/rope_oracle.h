#pragma once
// The q/k row permutation from llama2.c's interleaved RoPE layout to Hugging
// Face's rotate-half one, written out by index as transformers' permute()
// does it: an oracle for the library's hf_layout, so it must not call it.
#include <cstdint>
#include <cstring>
#include <vector>

namespace lutc::testing {

// Row (head, 2i + j) of llama2.c's layout is row (head, j * hs/2 + i) of
// Hugging Face's; b holds `rows` rows of equal byte length, hs rows per head.
inline std::vector<uint8_t> to_rotate_half(const std::vector<uint8_t>& b, uint64_t rows, uint32_t hs) {
  const uint64_t rb = b.size() / rows;
  std::vector<uint8_t> out(b.size());
  for (uint64_t head = 0; head < rows / hs; ++head)
    for (uint32_t i = 0; i < hs / 2; ++i)
      for (uint32_t j = 0; j < 2; ++j)
        std::memcpy(&out[(head * hs + j * (hs / 2) + i) * rb], &b[(head * hs + 2 * i + j) * rb], rb);
  return out;
}

}  // namespace lutc::testing

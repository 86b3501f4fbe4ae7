#include "lutc/model/bitpack.h"

#include <cstring>

namespace lutc {

void pack_indices(const uint8_t* codes, uint64_t count, unsigned bits, uint8_t* out) {
  std::memset(out, 0, packed_bytes(count, bits));
  if (bits == 8) {
    std::memcpy(out, codes, size_t(count));
    return;
  }
  const unsigned mask = (1u << bits) - 1u;
  uint64_t bit = 0;
  for (uint64_t i = 0; i < count; ++i, bit += bits) {
    const unsigned v = codes[i] & mask;
    const size_t byte = size_t(bit >> 3);
    const unsigned shift = unsigned(bit & 7);
    out[byte] = uint8_t(out[byte] | (v << shift));
    if (shift + bits > 8) out[byte + 1] = uint8_t(out[byte + 1] | (v >> (8 - shift)));
  }
}

void unpack_indices(const uint8_t* packed, uint64_t first, uint64_t count, unsigned bits,
                    uint8_t* out) {
  if (bits == 8) {
    std::memcpy(out, packed + first, size_t(count));
    return;
  }
  for (uint64_t i = 0; i < count; ++i) out[i] = uint8_t(get_index(packed, first + i, bits));
}

}  // namespace lutc

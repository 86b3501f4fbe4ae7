#include "lutc/model/bitpack.h"

#include <cstring>

namespace lutc {

void pack_indices(const uint8_t* codes, uint64_t count, unsigned bits, uint8_t* out) {
  // Nothing to pack; an empty vector's data() may be null, which memset and
  // memcpy must not be given even for zero bytes.
  if (count == 0) return;
  std::memset(out, 0, packed_bytes(count, bits));
  if (bits == 8) {
    std::memcpy(out, codes, size_t(count));
    return;
  }
  const unsigned mask = (1u << bits) - 1u;
  if (bits == 4) {
    const uint64_t pairs = count / 2;
    for (uint64_t i = 0; i < pairs; ++i) out[i] = uint8_t((codes[2 * i] & 15) | (codes[2 * i + 1] & 15) << 4);
    if (count & 1) out[pairs] = uint8_t(codes[count - 1] & 15);
    return;
  }
  if (bits == 2) {
    // Whole codes per byte: a byte at a time, no read-modify-write.
    const unsigned per = 8 / bits;
    const uint64_t full = count / per;
    for (uint64_t i = 0; i < full; ++i) {
      unsigned b = 0;
      for (unsigned j = 0; j < per; ++j) b |= (codes[i * per + j] & mask) << (j * bits);
      out[i] = uint8_t(b);
    }
    for (uint64_t i = full * per; i < count; ++i)
      out[i / per] = uint8_t(out[i / per] | ((codes[i] & mask) << ((i % per) * bits)));
    return;
  }
  uint64_t bit = 0;
  for (uint64_t i = 0; i < count; ++i, bit += bits) {
    const unsigned v = codes[i] & mask;
    const size_t byte = size_t(bit >> 3);
    const unsigned shift = unsigned(bit & 7);
    out[byte] = uint8_t(out[byte] | (v << shift));
    if (shift + bits > 8) out[byte + 1] = uint8_t(out[byte + 1] | (v >> (8 - shift)));
  }
}

void unpack_indices(const uint8_t* packed, uint64_t first, uint64_t count, unsigned bits, uint8_t* out) {
  if (count == 0) return;  // as in pack_indices: no null pointer reaches memcpy
  if (bits == 8) {
    std::memcpy(out, packed + first, size_t(count));
    return;
  }
  uint64_t i = 0;
  if (bits == 4) {
    // Two codes per byte: whole bytes once the position is byte aligned.
    if (first & 1) {
      if (count == 0) return;
      out[i++] = uint8_t(packed[first >> 1] >> 4);
    }
    const uint8_t* p = packed + ((first + i) >> 1);
    const uint64_t pairs = (count - i) / 2;
    for (uint64_t j = 0; j < pairs; ++j) {
      out[i + 2 * j] = uint8_t(p[j] & 15);
      out[i + 2 * j + 1] = uint8_t(p[j] >> 4);
    }
    i += 2 * pairs;
  }
  for (; i < count; ++i) out[i] = uint8_t(get_index(packed, first + i, bits));
}

}  // namespace lutc

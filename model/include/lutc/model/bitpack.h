#pragma once
// Sub-byte index packing: a little-endian bit stream. Code i occupies bits
// [i*b, (i+1)*b) of the stream; bit j of the stream is bit (j % 8) of byte
// j / 8. Rows are not padded: row r starts at bit r*K*b.
#include <cstddef>
#include <cstdint>

namespace lutc {

inline size_t packed_bytes(uint64_t count, unsigned bits) { return size_t((count * bits + 7) / 8); }

void pack_indices(const uint8_t* codes, uint64_t count, unsigned bits, uint8_t* out);
// Unpacks codes [first, first+count) of the stream.
void unpack_indices(const uint8_t* packed, uint64_t first, uint64_t count, unsigned bits, uint8_t* out);

// One code; reads at most two bytes, so `packed` needs no tail padding.
inline unsigned get_index(const uint8_t* packed, uint64_t i, unsigned bits) {
  const uint64_t bit = i * bits;
  const size_t byte = size_t(bit >> 3);
  const unsigned shift = unsigned(bit & 7);
  unsigned v = packed[byte] >> shift;
  if (shift + bits > 8) v |= unsigned(packed[byte + 1]) << (8 - shift);
  return v & ((1u << bits) - 1u);
}

}  // namespace lutc

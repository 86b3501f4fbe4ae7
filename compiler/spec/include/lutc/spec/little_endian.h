#pragma once
// Every multi-byte field of the engine's records (metadata, outlier records,
// activation words) is little-endian, whatever the host's byte order.
#include <cstdint>

#include "lutc/spec/host_device.h"

namespace lutc {

// The unsigned value of `bytes` (1..8) bytes at p.
LUTC_SPEC_HD inline uint64_t load_le(const uint8_t* p, unsigned bytes) {
  uint64_t v = 0;
  for (unsigned b = 0; b < bytes; ++b) v |= uint64_t(p[b]) << (8 * b);
  return v;
}
LUTC_SPEC_HD inline void store_le(uint8_t* p, uint64_t v, unsigned bytes) {
  for (unsigned b = 0; b < bytes; ++b) p[b] = uint8_t(v >> (8 * b));
}

}  // namespace lutc

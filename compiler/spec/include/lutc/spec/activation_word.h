#pragma once
// Integer activations in the activation SRAM (docs/numerics.md §4.3): each a
// two's-complement word of act_bits / 8 bytes (1 or 2), little-endian. The
// DMA writes byte `byte_of_activation(a, i)` of an element; lanes and the
// outlier unit read the element back with activation_at.
#include <cstdint>

#include "lutc/spec/host_device.h"

namespace lutc {

LUTC_SPEC_HD inline int32_t activation_at(const uint8_t* p, uint32_t act_bytes) {
  return act_bytes == 1 ? int32_t(int8_t(p[0])) : int32_t(int16_t(uint16_t(p[0] | p[1] << 8)));
}
// Byte i (0 = least significant) of the activation word holding a.
LUTC_SPEC_HD inline uint8_t byte_of_activation(int32_t a, uint32_t i) { return uint8_t(uint32_t(a) >> (8 * i)); }

}  // namespace lutc

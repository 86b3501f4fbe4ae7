#pragma once
// A block scale as the engine reads it from a metadata record: fp16 bits,
// value = (-1)^negative * mant * 2^exp with an 11-bit integer mantissa
// (subnormals: exp -24, no implicit bit). Inf and NaN (exponent field 31) are
// not scales; the compiler never emits them and every engine refuses them.
// The RTL's lutc_hif_weight.sv decodes the same fields.
#include <cstdint>

#include "lutc/spec/host_device.h"

namespace lutc {

struct BlockScale {
  bool negative = false;
  uint32_t mant = 1;  // 1 x 2^0: the scale of a record without one
  int exp = 0;
  bool finite = true;
};

LUTC_SPEC_HD inline BlockScale decode_block_scale(uint16_t h) {
  BlockScale s;
  const unsigned e = (h >> 10) & 31, frac = h & 1023;
  s.finite = e != 31;
  s.negative = (h >> 15) != 0;
  s.mant = e ? (frac | 1024) : frac;
  s.exp = e ? int(e) - 25 : -24;
  return s;
}

}  // namespace lutc

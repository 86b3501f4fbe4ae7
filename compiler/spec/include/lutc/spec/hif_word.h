#pragma once
// HIF, the word a LUT bank stores and hands to the multiplier (docs/hif.md):
//   word = sign (1 bit) | shift (shift_bits) | mant (mant_bits, unsigned)
//   value = (-1)^sign * mant * 2^(base - shift)
// with one signed exponent `base` per LUT (codebook). mant_bits 11 and
// shift_bits 5 represent every finite fp16 value exactly (lossless HIF).
// The RTL's lutc_hif_weight.sv takes the same fields apart in hardware.
#include <cstdint>

#include "lutc/spec/host_device.h"

namespace lutc {

struct HifFormat {
  unsigned mant_bits = 11;
  unsigned shift_bits = 5;
  LUTC_SPEC_HD unsigned word_bits() const { return 1 + mant_bits + shift_bits; }
  LUTC_SPEC_HD unsigned max_shift() const { return (1u << shift_bits) - 1; }
};

struct HifFields {
  bool negative = false;
  unsigned shift = 0;
  uint32_t mant = 0;
};

LUTC_SPEC_HD inline uint32_t hif_pack(const HifFormat& f, const HifFields& h) {
  return (uint32_t(h.negative) << (f.mant_bits + f.shift_bits)) | (h.shift << f.mant_bits) | h.mant;
}
LUTC_SPEC_HD inline HifFields hif_unpack(const HifFormat& f, uint32_t word) {
  HifFields h;
  h.mant = word & ((1u << f.mant_bits) - 1);
  h.shift = (word >> f.mant_bits) & ((1u << f.shift_bits) - 1);
  h.negative = (word >> (f.mant_bits + f.shift_bits)) & 1;
  return h;
}

}  // namespace lutc

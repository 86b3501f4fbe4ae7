#pragma once
// The integer weight of the golden GEMV (docs/numerics.md §4.2):
//   w_int = trunc(w * 2^-Ew), toward zero, and |w_int| < 2^63,
// because the weight exponent Ew puts the largest weight's msb at bit 62 at
// most. Two forms of the one rule:
//  - from parts (the engine: executor, SystemC; the RTL's lutc_hif_weight.sv
//    computes the same): w = (-1)^negative * mant * 2^(sh + Ew), all integers;
//  - from a double already scaled by 2^-Ew (the CPU and CUDA kernels, which
//    hold decoded fp32 weights).
// model/'s weight_to_int (frexp/ldexp on the fp32 value) is the reference the
// spec tests hold both forms to.
#include <cstdint>

#include "lutc/spec/host_device.h"

namespace lutc {

// The magnitude bound: |w_int| < 2^kWeightIntBits.
constexpr int kWeightIntBits = 63;

struct WeightInt {
  int64_t value = 0;
  bool fits = true;  // false: |w_int| >= 2^63, value is 0
};

// trunc(mant * 2^sh) with the sign applied.
LUTC_SPEC_HD inline WeightInt weight_int_from_parts(bool negative, uint64_t mant, int sh) {
  WeightInt w;
  if (mant == 0) return w;
  uint64_t mag;
  if (sh >= 0) {
    if (sh >= kWeightIntBits || (mant >> (kWeightIntBits - sh)) != 0) {
      w.fits = false;
      return w;
    }
    mag = mant << sh;
  } else {
    mag = -sh >= 64 ? 0 : mant >> -sh;
  }
  w.value = negative ? -int64_t(mag) : int64_t(mag);
  return w;
}

// trunc(v) for v = w * 2^-Ew held exactly in a double. A value past the bound
// belongs to no weight the matrix uses (a code no element takes): 0.
LUTC_SPEC_HD inline int64_t weight_int_from_scaled(double v) {
  const double bound = double(uint64_t(1) << kWeightIntBits);
  return (v < bound && v > -bound) ? int64_t(v) : 0;
}

}  // namespace lutc

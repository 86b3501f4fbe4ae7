#pragma once
// The accelerator's fixed-point view of a layer's effective weights (W_hif,
// docs/isa.md "Numerics"): the weight exponent Ew the golden GEMV would pick,
// each outlier as an exact integer correction at Ew, and the bound on any
// partial sum that proves the accumulator never overflows.
#include <cstdint>
#include <vector>

#include "lutc/compiler/layer_luts.h"

namespace lutc {

struct FixedPointLayer {
  int32_t weight_exp = 0;
  // Per outlier (CSR order): w_int(dense + residual in fp32) - w_int(dense).
  std::vector<int64_t> outlier_delta;
  // Signed bits any partial sum of a row needs, for |a| <= 2^(act_bits-1) - 1.
  uint32_t acc_bits_needed = 1;
};

// Throws Error(kBadInput) naming the layer when a correction exceeds 63 bits.
FixedPointLayer fixed_point_layer(const QuantizedLayer& layer, const LayerLuts& luts, const HifFormat& hif,
                                  unsigned act_bits);

}  // namespace lutc

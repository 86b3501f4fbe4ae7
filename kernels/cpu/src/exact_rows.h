#pragma once
// Pieces of the exact path shared by its scalar form (exact_gemv.cpp) and its
// AVX-512 form for 4- and 6-bit codes (exact_rows_avx512.cpp).
#include <cmath>
#include <cstdint>
#include <vector>

#include "lutc/kernels/cpu/packed_layer.h"
#include "lutc/spec/weight_int.h"

namespace lutc::kernels {

struct IntActivations {
  size_t stride = 0;       // padded_cols
  std::vector<int32_t> a;  // batch x stride: golden integer activations, padded coordinates
  std::vector<int> exp;    // per vector
  // AVX-512 form (filled only when that kernel runs). 4-bit: each group
  // padded to a multiple of 64 (dense layers: the whole row) and every 64
  // elements reordered to the order 16-bit code lanes come in ([blk0 0-15,
  // blk1 0-15, blk0 16-31, blk1 16-31]). 6-bit: element order (padded
  // coordinates, groups already whole blocks of 32). a = 256 * hi + lo with
  // lo in [0, 255], hi in [-128, 127], so every product with a 15-bit weight
  // limb stays far inside int32.
  size_t lane_stride = 0;          // groups_per_row * group_lanes (dense: padded_cols rounded up to 64 / 32)
  uint32_t group_lanes = 0;        // 0 for dense layers
  std::vector<int16_t> lo, hi;     // batch x lane_stride
  std::vector<int64_t> group_sum;  // batch x groups_per_row: sum of a over the group
  // Weights, not activations, but made once per call here rather than once per row chunk:
  // 4-bit dense sop layers, the limbs of every scale code's table ([code][limb][16]);
  // 6-bit sop / xfp.v2a layers, of every scale code's / library id's table ([id][limb][64]).
  std::vector<int16_t> code_limbs;
};

// w_int = trunc(w * 2^-Ew), the golden GEMV's weight rule
// (lutc/spec/weight_int.h), without weight_to_int's frexp/ldexp calls (16 per
// group would dominate the path). Exact: w * 2^-Ew only moves the exponent of
// a 24-bit significand inside double's range (Ew in [-149, 65]). Codes no
// element uses are not bound by |w_int| < 2^63; they get 0 (their bins are
// 0). The parity tests compare the result with golden_gemv.
inline int64_t weight_int(float w, double unit) { return weight_int_from_scaled(double(w) * unit); }

// Outliers replace the dense weight at their position: the dense sum counted
// the dense weight, one exact correction per outlier swaps it.
inline void add_outlier_corrections(const PackedLayer& p, const IntActivations& act, uint32_t batch, uint32_t r,
                                    double unit, __int128* acc) {
  if (p.out_row_ptr.empty()) return;
  for (uint32_t i = p.out_row_ptr[r]; i < p.out_row_ptr[r + 1]; ++i) {
    const int64_t delta = weight_int(p.out_exact[i], unit) - weight_int(p.out_dense[i], unit);
    if (delta == 0) continue;
    const uint32_t c = p.out_col[i];
    const size_t kp = size_t(c / p.group) * p.group_padded + c % p.group;
    for (uint32_t m = 0; m < batch; ++m) acc[m] += __int128(delta) * act.a[m * act.stride + kp];
  }
}

// The AVX-512 exact kernel: 4-bit codes (groups of at least 32 elements, or
// dense sop) and 6-bit codes (sop, xfp.v2, xfp.v2a; dense sop b8/b16), weights
// within 4 limbs. Other layers take the scalar form.
bool exact_avx512_applies(const PackedLayer& p);
void fill_lane_activations(const PackedLayer& p, uint32_t batch, IntActivations& act);
void exact_rows_avx512(const PackedLayer& p, const IntActivations& act, uint32_t batch, uint32_t r0, uint32_t r1,
                       float* y);

}  // namespace lutc::kernels

// The AVX-512 exact path: which layers it takes, and their activations laid
// out as the kernels read them (the 4-bit and 6-bit kernels live in
// exact_rows4_avx512.cpp and exact_rows6_avx512.cpp; exact_limbs_avx512.h
// explains the limb form they share).
#include "exact_limbs_avx512.h"

namespace lutc::kernels {

bool exact_avx512_applies(const PackedLayer& p) {
  if (limbs_needed(p) == 0) return false;
  if (p.bits == 4) return !p.dense() || p.scheme == Scheme::kSop;
  if (p.bits != 6) return false;
  if (p.dense()) return p.scheme == Scheme::kSop && (p.group == 8 || p.group == 16);
  return p.scheme == Scheme::kSop || p.scheme == Scheme::kXfpV2 || p.scheme == Scheme::kXfpV2a;
}

void fill_lane_activations(const PackedLayer& p, uint32_t batch, IntActivations& act) {
  // Dense layers: lanes over the whole row (groups share steps). 6-bit
  // steps are 32 elements in element order, 4-bit ones 64 in exact4_lane_of order.
  const bool dense = p.dense(), six = p.bits == 6;
  const uint32_t step = six ? kBlock : kPair;
  act.group_lanes = dense ? 0 : (p.group_padded + step - 1) / step * step;
  act.lane_stride = dense ? (p.padded_cols() + step - 1) / step * step : size_t(p.groups_per_row) * act.group_lanes;
  act.lo.assign(act.lane_stride * batch, 0);
  act.hi.assign(act.lane_stride * batch, 0);
  act.group_sum.assign(size_t(p.groups_per_row) * batch, 0);
  if (six)
    exact6_tables(p, act);
  else
    exact4_tables(p, act);
  for (uint32_t m = 0; m < batch; ++m)
    for (uint32_t g = 0; g < p.groups_per_row; ++g) {
      const int32_t* a = act.a.data() + m * act.stride + size_t(g) * p.group_padded;
      // Lanes of group g start at base; a dense group's element e0 + e of the row.
      const size_t base = m * act.lane_stride + (dense ? 0 : size_t(g) * act.group_lanes);
      const uint32_t e0 = dense ? g * p.group_padded : 0;
      int64_t sum = 0;
      for (uint32_t e = 0; e < p.group_padded; ++e) {
        const size_t pos = base + (six ? e0 + e : exact4_lane_of(e0 + e));
        act.lo[pos] = int16_t(a[e] & 255);
        act.hi[pos] = int16_t(a[e] >> 8);  // floor: a = 256 * hi + lo
        sum += a[e];
      }
      act.group_sum[m * p.groups_per_row + g] = sum;
    }
}

void exact_rows_avx512(const PackedLayer& p, const IntActivations& act, uint32_t batch, uint32_t r0, uint32_t r1,
                       float* y) {
  if (p.bits == 6)
    exact6_rows_avx512(p, act, batch, r0, r1, y);
  else
    exact4_rows_avx512(p, act, batch, r0, r1, y);
}

}  // namespace lutc::kernels

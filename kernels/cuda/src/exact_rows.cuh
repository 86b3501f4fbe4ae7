#pragma once
// The exact GEMV's per-lane work and the host steps around it, shared by the
// kernel (exact_kernel.cu) and the CPU emulation (emulate.cu).
// The host quantizes the activations with model/'s quantize_activations (the
// same integers the golden GEMV uses). A warp owns a row; every lane
// accumulates w_int * a exactly in a 128-bit integer made of two 64-bit
// words with carry; the lanes are summed the same way (integer sums do not
// depend on order), and the host rounds once with scaled_int128_to_float.
#include <cmath>
#include <vector>

#include "layer_view.cuh"
#include "lutc/model/golden.h"
#include "lutc/spec/weight_int.h"

namespace lutc::kernels::cuda {

constexpr unsigned kExactBatch = 8;  // vectors per launch: 8 accumulators of two words stay in registers

struct I128 {
  unsigned long long lo;
  long long hi;
};

LUTC_HD void add128(I128& a, unsigned long long lo, long long hi) {
  const unsigned long long s = a.lo + lo;
  a.hi += hi + (s < lo ? 1 : 0);
  a.lo = s;
}

// a += w * x, the full signed 128-bit product.
LUTC_HD void mac128(I128& a, long long w, long long x) {
  add128(a, (unsigned long long)w * (unsigned long long)x, mul64hi(w, x));
}

// trunc(w * 2^-Ew): exact in double (a power-of-two scale of a 24-bit
// significand); the engine's weight rule (lutc/spec/weight_int.h), including
// its 0 for |v| >= 2^63, as the CPU kernels apply it.
LUTC_HD long long weight_int(float w, double unit) { return weight_int_from_scaled(dmul_rn(double(w), unit)); }

// One lane's share of row r: columns lane, lane+32, ... and its share of the
// row's outliers, for nb <= kExactBatch activation vectors of v.cols ints.
LUTC_HD void exact_lane(const LayerView& v, const int32_t* a, uint32_t nb, double unit, uint32_t r, uint32_t lane,
                        I128 (&acc)[kExactBatch]) {
  for (unsigned m = 0; m < kExactBatch; ++m) acc[m] = I128{0, 0};
  for (uint32_t k = lane; k < v.cols; k += 32) {
    const long long w = weight_int(dense_at(v, v.shared, v.sop_scale, r, k), unit);
    for (unsigned m = 0; m < kExactBatch; ++m)
      if (m < nb) mac128(acc[m], w, a[uint64_t(m) * v.cols + k]);
  }
  // Outliers: the dense sum counted the dense weight; swap it for dense + residual.
  if (v.out_row_ptr)
    for (uint32_t e = v.out_row_ptr[r] + lane; e < v.out_row_ptr[r + 1]; e += 32) {
      const uint32_t c = v.out_col[e];
      const float dense = dense_at(v, v.shared, v.sop_scale, r, c);
      const long long wd = weight_int(dense, unit), we = weight_int(add_rn(dense, v.out_residual[e]), unit);
      if (wd == we) continue;
      for (unsigned m = 0; m < kExactBatch; ++m)
        if (m < nb) {
          const long long x = a[uint64_t(m) * v.cols + c];
          mac128(acc[m], we, x);
          mac128(acc[m], wd, -x);
        }
    }
}

// Host side, before the launch: the golden GEMV's integer activations and
// their per-vector exponents.
struct ExactActivations {
  std::vector<int32_t> a;
  std::vector<int> exp;
};
inline ExactActivations exact_activations(const float* x, uint32_t cols, uint32_t batch, const GemvConfig& cfg) {
  ExactActivations r;
  r.a.resize(size_t(batch) * cols);
  r.exp.resize(batch);
  for (uint32_t m = 0; m < batch; ++m)
    r.exp[m] = quantize_activations(x + size_t(m) * cols, cols, cfg.act_bits, r.a.data() + size_t(m) * cols);
  return r;
}

// Host side, after: y[m][r] from the sums as (lo, hi) word pairs, [batch][rows][2].
inline void exact_finish(const LayerView& v, const ExactActivations& acts, uint32_t batch,
                         const unsigned long long* acc, float* y) {
  for (uint32_t m = 0; m < batch; ++m)
    for (uint32_t r = 0; r < v.rows; ++r) {
      const size_t i = 2 * (size_t(m) * v.rows + r);
      const __int128 s = __int128((static_cast<unsigned __int128>(acc[i + 1]) << 64) | acc[i]);
      y[size_t(m) * v.rows + r] = scaled_int128_to_float(s, v.weight_exp + acts.exp[m]);
    }
}

}  // namespace lutc::kernels::cuda

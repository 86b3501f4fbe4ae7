// Host emulation of the three kernels (emulate.h). Each warp is replayed
// lane after lane: a phase the device separates with __syncwarp runs for
// all 32 lanes before the next starts, lane tables live at the same offsets
// as in shared memory, and the fast path's butterfly reduction adds in the
// order __shfl_xor_sync does, so the fp32 results have the device's bits.
// Warps run on up to 16 threads; that changes no result (warps share nothing).
#include <algorithm>
#include <array>
#include <cmath>
#include <exception>
#include <thread>
#include <vector>

#include "decode_rows.cuh"
#include "device_layer.h"
#include "exact_rows.cuh"
#include "fast_rows.cuh"
#include "lutc/kernels/cuda/emulate.h"
#include "lutc/model/error.h"

namespace lutc::kernels::cuda::emulate {
namespace {

// Warps are independent, so rows are split over threads in whole warps
// (`step` rows each); every row is computed exactly as on one thread.
template <class F>
void for_warps(uint32_t rows, uint32_t step, F&& f) {
  const uint32_t warps = (rows + step - 1) / step;
  const unsigned threads = std::max(1u, std::min({std::thread::hardware_concurrency(), 16u, warps}));
  if (threads <= 1) {
    f(0u, rows);
    return;
  }
  const uint32_t per = (warps + threads - 1) / threads * step;
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(threads);
  for (unsigned t = 0; t < threads; ++t) {
    const uint32_t r0 = std::min(rows, t * per), r1 = std::min(rows, r0 + per);
    pool.emplace_back([&, t, r0, r1] {
      try {
        if (r0 < r1) f(r0, r1);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace

void decode(const PackedLayer& p, float* out) {
  const HostLayout h = host_layout(p);
  const LayerView& v = h.view;
  for_warps(v.rows, 1, [&](uint32_t r0, uint32_t r1) {
    for (uint32_t r = r0; r < r1; ++r) {
      float* o = out + uint64_t(r) * v.cols;
      for (uint32_t lane = 0; lane < 32; ++lane) decode_lane_dense(v, r, lane, o);
      for (uint32_t lane = 0; lane < 32; ++lane) decode_lane_outliers(v, r, lane, o);
    }
  });
}

void gemv_exact(const PackedLayer& p, const float* x, uint32_t batch, const GemvConfig& cfg, float* y) {
  const HostLayout h = host_layout(p);
  const LayerView& v = h.view;
  if (batch == 0 || v.rows == 0) return;
  const ExactActivations acts = exact_activations(x, v.cols, batch, cfg);
  std::vector<unsigned long long> acc(size_t(batch) * v.rows * 2);
  const double unit = std::ldexp(1.0, -v.weight_exp);
  for (uint32_t m0 = 0; m0 < batch; m0 += kExactBatch) {
    const uint32_t nb = std::min(kExactBatch, batch - m0);
    for_warps(v.rows, 1, [&](uint32_t r0, uint32_t r1) {
      for (uint32_t r = r0; r < r1; ++r) {
        I128 sum[kExactBatch] = {};
        for (uint32_t lane = 0; lane < 32; ++lane) {
          I128 a[kExactBatch];
          exact_lane(v, acts.a.data() + size_t(m0) * v.cols, nb, unit, r, lane, a);
          for (unsigned m = 0; m < kExactBatch; ++m) add128(sum[m], a[m].lo, a[m].hi);
        }
        for (uint32_t m = 0; m < nb; ++m) {
          const size_t i = 2 * (size_t(m0 + m) * v.rows + r);
          acc[i] = sum[m].lo;
          acc[i + 1] = (unsigned long long)sum[m].hi;
        }
      }
    });
  }
  exact_finish(v, acts, batch, acc.data(), y);
}

namespace {

template <unsigned BITS, unsigned MB, unsigned R, class Act>
void fast_rows_host(const LayerView& v, const uint16_t* xp, uint32_t nb, float* y) {
  for_warps(v.rows, R, [&](uint32_t first, uint32_t last) {
    std::vector<float> lane_tables(size_t(R) * (1u << BITS) * 32);  // one warp's [row][entry][lane]
    std::vector<std::array<float, R * MB>> acc(32), next(32);
    for (uint32_t r0 = first; r0 < last; r0 += R) {
      for (uint32_t lane = 0; lane < 32; ++lane) {
        float a[R][MB];
        fast_lane<BITS, MB, R, Act>(v, v.shared, v.sop_scale, xp, nb, r0, lane, lane_tables.data() + lane, a);
        for (unsigned rr = 0; rr < R; ++rr)
          for (unsigned m = 0; m < MB; ++m) acc[lane][rr * MB + m] = a[rr][m];
      }
      // s += __shfl_xor_sync(s, off): every lane adds its partner's value to its own.
      for (unsigned off = 16; off > 0; off >>= 1) {
        for (uint32_t lane = 0; lane < 32; ++lane)
          for (unsigned i = 0; i < R * MB; ++i) next[lane][i] = acc[lane][i] + acc[lane ^ off][i];
        acc.swap(next);
      }
      for (unsigned rr = 0; rr < R && r0 + rr < v.rows; ++rr)
        for (unsigned m = 0; m < nb; ++m) y[uint64_t(m) * v.rows + r0 + rr] = acc[0][rr * MB + m];
    }
  });
}

}  // namespace

void gemv_fast(const PackedLayer& p, const float* x, uint32_t batch, ActType act, float* y) {
  if (batch < 1 || batch > kMaxFastBatch)
    throw Error(ExitCode::kUsage,
                "emulate::gemv_fast: batch " + std::to_string(batch) + " outside 1.." + std::to_string(kMaxFastBatch));
  const HostLayout h = host_layout(p);
  const LayerView& v = h.view;
  if (v.rows == 0) return;
  std::vector<uint16_t> xs = activation_bits(x, size_t(batch) * v.cols, act);
  if (row_slots(v) != v.cols) {
    const uint32_t pc = row_slots(v);
    std::vector<uint16_t> xp(size_t(batch) * pc);
    for (uint32_t m = 0; m < batch; ++m)
      for (uint32_t q = 0; q < pc; ++q) xp[size_t(m) * pc + q] = padded_act(v, xs.data(), m, q);
    xs.swap(xp);
  }
  fast_dispatch(v.bits, batch, act == ActType::kBf16, [&](auto cfg, auto a) {
    using Cfg = decltype(cfg);
    fast_rows_host<Cfg::kBits, Cfg::kBatch, Cfg::kRows, decltype(a)>(v, xs.data(), batch, y);
  });
}

}  // namespace lutc::kernels::cuda::emulate

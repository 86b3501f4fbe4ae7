// gpu_gemv_exact: the golden GEMV of docs/numerics.md on the GPU.
// The host quantizes the activations with model/'s quantize_activations (the
// same integers the golden GEMV uses). Each warp owns a row; every lane
// accumulates w_int * a exactly in a 128-bit integer made of two 64-bit
// words with carry, the lanes are summed the same way (integer sums do not
// depend on order), and the host rounds once with scaled_int128_to_float.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cuda_check.h"
#include "device_layer.h"

namespace lutc::kernels::cuda {
namespace {

constexpr unsigned kExactBatch = 8;  // vectors per launch: 8 accumulators of two words stay in registers

struct I128 {
  unsigned long long lo;
  long long hi;
};

__device__ __forceinline__ void add128(I128& a, unsigned long long lo, long long hi) {
  const unsigned long long s = a.lo + lo;
  a.hi += hi + (s < lo ? 1 : 0);
  a.lo = s;
}

// a += w * x, the full signed 128-bit product.
__device__ __forceinline__ void mac128(I128& a, long long w, long long x) {
  add128(a, (unsigned long long)w * (unsigned long long)x, __mul64hi(w, x));
}

// trunc(w * 2^-Ew): exact in double (a power-of-two scale of a 24-bit
// significand); the kernels' weight_int, including its 0 for |v| >= 2^63.
__device__ __forceinline__ long long weight_int(float w, double unit) {
  const double v = __dmul_rn(double(w), unit);
  return fabs(v) < 0x1p63 ? (long long)v : 0;
}

__global__ void exact_rows(LayerView v, const int32_t* a, uint32_t nb, double unit, unsigned long long* acc_out) {
  const uint32_t r = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x & 31;
  if (r >= v.rows) return;
  I128 acc[kExactBatch];
#pragma unroll
  for (unsigned m = 0; m < kExactBatch; ++m) acc[m] = I128{0, 0};
  for (uint32_t k = lane; k < v.cols; k += 32) {
    const long long w = weight_int(dense_at(v, v.shared, v.sop_scale, r, k), unit);
#pragma unroll
    for (unsigned m = 0; m < kExactBatch; ++m)
      if (m < nb) mac128(acc[m], w, a[uint64_t(m) * v.cols + k]);
  }
  // Outliers: the dense sum counted the dense weight; swap it for dense + residual.
  if (v.out_row_ptr)
    for (uint32_t e = v.out_row_ptr[r] + lane; e < v.out_row_ptr[r + 1]; e += 32) {
      const uint32_t c = v.out_col[e];
      const float dense = dense_at(v, v.shared, v.sop_scale, r, c);
      const long long wd = weight_int(dense, unit), we = weight_int(__fadd_rn(dense, v.out_residual[e]), unit);
      if (wd == we) continue;
#pragma unroll
      for (unsigned m = 0; m < kExactBatch; ++m)
        if (m < nb) {
          const long long x = a[uint64_t(m) * v.cols + c];
          mac128(acc[m], we, x);
          mac128(acc[m], wd, -x);
        }
    }
#pragma unroll
  for (unsigned m = 0; m < kExactBatch; ++m) {
    for (int off = 16; off > 0; off >>= 1) {
      const unsigned long long lo = __shfl_down_sync(0xffffffffu, acc[m].lo, off);
      const long long hi = __shfl_down_sync(0xffffffffu, acc[m].hi, off);
      add128(acc[m], lo, hi);
    }
    if (lane == 0 && m < nb) {
      acc_out[2 * (uint64_t(m) * v.rows + r)] = acc[m].lo;
      acc_out[2 * (uint64_t(m) * v.rows + r) + 1] = (unsigned long long)acc[m].hi;
    }
  }
}

}  // namespace

void gpu_gemv_exact(const DeviceLayer& layer, const float* x, uint32_t batch, const GemvConfig& cfg, float* y) {
  const LayerView& v = layer.data().view;
  if (batch == 0 || v.rows == 0) return;
  std::vector<int32_t> a(size_t(batch) * v.cols);
  std::vector<int> exp(batch);
  for (uint32_t m = 0; m < batch; ++m)
    exp[m] = quantize_activations(x + size_t(m) * v.cols, v.cols, cfg.act_bits, a.data() + size_t(m) * v.cols);
  DeviceBuffer d_a(std::max<size_t>(a.size(), 1) * sizeof(int32_t));
  d_a.upload(a.data(), a.size() * sizeof(int32_t));
  DeviceBuffer d_acc(size_t(batch) * v.rows * 2 * sizeof(unsigned long long));
  const double unit = std::ldexp(1.0, -v.weight_exp);
  for (uint32_t m0 = 0; m0 < batch; m0 += kExactBatch) {
    const uint32_t nb = std::min(kExactBatch, batch - m0);
    exact_rows<<<row_blocks(v.rows), kWarps * 32>>>(
        v, static_cast<const int32_t*>(d_a.get()) + size_t(m0) * v.cols, nb, unit,
        static_cast<unsigned long long*>(d_acc.get()) + 2 * size_t(m0) * v.rows);
    CUDA_CHECK_LAUNCH("exact_rows");
  }
  CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<unsigned long long> acc(size_t(batch) * v.rows * 2);
  d_acc.download(acc.data(), acc.size() * sizeof(unsigned long long));
  for (uint32_t m = 0; m < batch; ++m)
    for (uint32_t r = 0; r < v.rows; ++r) {
      const size_t i = 2 * (size_t(m) * v.rows + r);
      const __int128 s = __int128((static_cast<unsigned __int128>(acc[i + 1]) << 64) | acc[i]);
      y[size_t(m) * v.rows + r] = scaled_int128_to_float(s, v.weight_exp + exp[m]);
    }
}

}  // namespace lutc::kernels::cuda

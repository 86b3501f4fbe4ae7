// gpu_gemv_exact: the golden GEMV of docs/numerics.md on the GPU; the
// per-lane work and the host steps are in exact_rows.cuh.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cuda_check.h"
#include "device_layer.h"
#include "exact_rows.cuh"

namespace lutc::kernels::cuda {
namespace {

__global__ void exact_rows(LayerView v, const int32_t* a, uint32_t nb, double unit, unsigned long long* acc_out) {
  const uint32_t r = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x & 31;
  if (r >= v.rows) return;
  I128 acc[kExactBatch];
  exact_lane(v, a, nb, unit, r, lane, acc);
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
  const ExactActivations acts = exact_activations(x, v.cols, batch, cfg);
  DeviceBuffer d_a(std::max<size_t>(acts.a.size(), 1) * sizeof(int32_t));
  d_a.upload(acts.a.data(), acts.a.size() * sizeof(int32_t));
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
  exact_finish(v, acts, batch, acc.data(), y);
}

}  // namespace lutc::kernels::cuda

// gpu_gemv_fast: decode and multiply in one launch, fp32 accumulation. The
// per-lane work is fast_rows.cuh; this file stages the layer's tables in
// shared memory, runs the lanes and reduces each row across the warp.
#include <algorithm>
#include <vector>

#include "cuda_check.h"
#include "device_layer.h"
#include "fast_rows.cuh"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"

namespace lutc::kernels::cuda {
namespace {

constexpr size_t kMaxStaticSmem = 48 * 1024;  // without a per-kernel opt-in

template <unsigned BITS, unsigned MB, unsigned R, class Act>
__global__ void __launch_bounds__(kFastWarps * 32)
    fast_rows(LayerView v, const uint16_t* xp, uint32_t nb, bool stage, float* y) {
  extern __shared__ float smem[];
  const float* tables = v.shared;
  const float* sop_scale = v.sop_scale;
  float* lane_tables = smem;
  if (stage) {
    for (uint32_t i = threadIdx.x; i < v.shared_len; i += blockDim.x) smem[i] = v.shared[i];
    for (uint32_t i = threadIdx.x; i < v.sop_codes; i += blockDim.x) smem[v.shared_len + i] = v.sop_scale[i];
    __syncthreads();
    tables = smem;
    sop_scale = smem + v.shared_len;
    lane_tables = smem + v.shared_len + v.sop_codes;
  }
  const uint32_t warp = threadIdx.x / 32, lane = threadIdx.x & 31;
  const uint32_t r0 = (blockIdx.x * kFastWarps + warp) * R;
  if (r0 >= v.rows) return;  // uniform per warp, after the block-wide barrier
  float* my_table = lane_tables + warp * R * (1u << BITS) * 32 + lane;
  float acc[R][MB];
  fast_lane<BITS, MB, R, Act>(v, tables, sop_scale, xp, nb, r0, lane, my_table, acc);
#pragma unroll
  for (unsigned rr = 0; rr < R; ++rr)
#pragma unroll
    for (unsigned m = 0; m < MB; ++m) {
      float s = acc[rr][m];
      for (int off = 16; off > 0; off >>= 1) s += __shfl_xor_sync(0xffffffffu, s, off);
      if (lane == 0 && m < nb && r0 + rr < v.rows) y[uint64_t(m) * v.rows + r0 + rr] = s;
    }
}

__global__ void pad_activations(LayerView v, const uint16_t* x, uint32_t batch, uint16_t* xp) {
  const uint32_t pc = row_slots(v);
  const uint64_t n = uint64_t(batch) * pc;
  for (uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += uint64_t(gridDim.x) * blockDim.x)
    xp[i] = padded_act(v, x, uint32_t(i / pc), uint32_t(i % pc));
}

void check_batch(uint32_t batch) {
  if (batch < 1 || batch > kMaxFastBatch)
    throw Error(ExitCode::kUsage,
                "gpu_gemv_fast: batch " + std::to_string(batch) + " outside 1.." + std::to_string(kMaxFastBatch));
}

}  // namespace

void gpu_gemv_fast_device(const DeviceLayer& layer, const void* d_x, uint32_t batch, ActType act, float* d_y) {
  check_batch(batch);
  const DeviceLayerData& d = layer.data();
  const LayerView& v = d.view;
  if (v.rows == 0) return;
  const uint16_t* xp = static_cast<const uint16_t*>(d_x);
  if (d.x_pad.get()) {  // more code slots than columns: activations go to the slot order first
    const uint64_t n = uint64_t(batch) * row_slots(v);
    const unsigned blocks = unsigned(std::min<uint64_t>((n + 255) / 256, 65535));
    pad_activations<<<blocks, 256>>>(v, xp, batch, static_cast<uint16_t*>(d.x_pad.get()));
    CUDA_CHECK_LAUNCH("pad_activations");
    xp = static_cast<const uint16_t*>(d.x_pad.get());
  }
  const unsigned R = fast_rows_for_batch(batch);
  const size_t staged = (size_t(v.shared_len) + v.sop_codes) * sizeof(float);
  const size_t lanes = fast_lane_table_floats(v, R) * sizeof(float);
  // Staging always fits today (largest: an 8-bit v2a library, 32 KiB); a
  // larger table would be read from global memory instead.
  const bool stage = staged + lanes <= kMaxStaticSmem;
  if (!stage && lanes)
    throw Error(ExitCode::kInternal, "gpu_gemv_fast: lane tables need shared memory the launch cannot have");
  const size_t smem = stage ? staged + lanes : 0;
  const unsigned grid = unsigned((v.rows + kFastWarps * R - 1) / (kFastWarps * R));
  fast_dispatch(v.bits, batch, act == ActType::kBf16, [&](auto cfg, auto a) {
    using Cfg = decltype(cfg);
    fast_rows<Cfg::kBits, Cfg::kBatch, Cfg::kRows, decltype(a)>
        <<<grid, kFastWarps * 32, smem>>>(v, xp, batch, stage, d_y);
  });
  CUDA_CHECK_LAUNCH("fast_rows");
}

void gpu_gemv_fast(const DeviceLayer& layer, const float* x, uint32_t batch, ActType act, float* y) {
  check_batch(batch);
  const LayerView& v = layer.data().view;
  const std::vector<uint16_t> xs = activation_bits(x, size_t(batch) * v.cols, act);
  DeviceBuffer d_x(std::max<size_t>(xs.size(), 1) * 2), d_y(std::max<size_t>(size_t(batch) * v.rows, 1) * 4);
  d_x.upload(xs.data(), xs.size() * 2);
  CUDA_CHECK(cudaMemset(d_y.get(), 0xff, d_y.size()));  // NaN: a row the kernel skips shows
  gpu_gemv_fast_device(layer, d_x.get(), batch, act, static_cast<float*>(d_y.get()));
  CUDA_CHECK(cudaDeviceSynchronize());
  d_y.download(y, size_t(batch) * v.rows * 4);
}

}  // namespace lutc::kernels::cuda

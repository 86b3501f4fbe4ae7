// gpu_gemv_fast: decode and multiply in one launch, fp32 accumulation.
// One warp per row; the batch (1..16) is a compile-time bound so the
// accumulators stay in registers. The layer's shared tables (v2a library,
// NF4 levels, fp8 values, sop codebooks and scale values) are staged in
// shared memory once per block: every lane reads a different entry, so a
// table lookup is one shared-memory access instead of a global gather.
// Per-group metadata (fp16 codebooks, scales) is read through L1, where the
// 32 lanes working on the same group hit the same line.
// 4-bit codes: each lane takes a 32-bit word of the code stream (8 codes of
// one block: positions j..j+3 and j+16..j+19), so a warp reads 128
// contiguous bytes per step. Other widths go element by element.
// The row's outliers (residual * x) are added before the warp reduction.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <vector>

#include "cuda_check.h"
#include "device_layer.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"

namespace lutc::kernels::cuda {
namespace {

__device__ __forceinline__ float act_f(__half h) { return __half2float(h); }
__device__ __forceinline__ float act_f(__nv_bfloat16 b) { return __bfloat162float(b); }

template <unsigned MB, class T>
__global__ void fast_rows(LayerView v, const T* x, uint32_t nb, bool stage, float* y) {
  extern __shared__ float smem[];
  const float* tables = v.shared;
  const float* sop_scale = v.sop_scale;
  if (stage) {
    for (uint32_t i = threadIdx.x; i < v.shared_len; i += blockDim.x) smem[i] = v.shared[i];
    for (uint32_t i = threadIdx.x; i < v.sop_codes; i += blockDim.x) smem[v.shared_len + i] = v.sop_scale[i];
    __syncthreads();
    tables = smem;
    sop_scale = smem + v.shared_len;
  }
  const uint32_t r = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x & 31;
  if (r >= v.rows) return;
  float acc[MB];
#pragma unroll
  for (unsigned m = 0; m < MB; ++m) acc[m] = 0.f;
  if (v.bits == 4) {
    const uint32_t* words = reinterpret_cast<const uint32_t*>(v.indices + r * v.row_bytes);
    const uint32_t nwords = uint32_t(v.row_bytes / 4);
    const uint32_t blocks_per_group = v.group_padded / 32;
    for (uint32_t wi = lane; wi < nwords; wi += 32) {
      const uint32_t word = __ldg(words + wi);
      const uint32_t block = wi / 4, j0 = (wi % 4) * 4;
      const uint32_t g = block / blocks_per_group;
      const uint32_t i0 = (block - g * blocks_per_group) * 32 + j0;  // position in the padded group
      const uint32_t k0 = g * v.group;
#pragma unroll
      for (unsigned t = 0; t < 8; ++t) {
        const uint32_t i = i0 + (t & 3) + (t >> 2) * 16;  // low nibbles: j0..j0+3, high: j0+16..
        if (i >= v.group) continue;  // padding (code 0) past the group's real elements
        const unsigned code = (word >> ((t & 3) * 8 + (t >> 2) * 4)) & 15u;
        const float w = entry(v, tables, sop_scale, r, g, code);
        const uint32_t k = k0 + i;
#pragma unroll
        for (unsigned m = 0; m < MB; ++m)
          if (m < nb) acc[m] = fmaf(w, act_f(x[uint64_t(m) * v.cols + k]), acc[m]);
      }
    }
  } else {
    for (uint32_t k = lane; k < v.cols; k += 32) {
      const float w = dense_at(v, tables, sop_scale, r, k);
#pragma unroll
      for (unsigned m = 0; m < MB; ++m)
        if (m < nb) acc[m] = fmaf(w, act_f(x[uint64_t(m) * v.cols + k]), acc[m]);
    }
  }
  if (v.out_row_ptr)
    for (uint32_t e = v.out_row_ptr[r] + lane; e < v.out_row_ptr[r + 1]; e += 32) {
      const uint32_t c = v.out_col[e];
      const float res = v.out_residual[e];
#pragma unroll
      for (unsigned m = 0; m < MB; ++m)
        if (m < nb) acc[m] = fmaf(res, act_f(x[uint64_t(m) * v.cols + c]), acc[m]);
    }
#pragma unroll
  for (unsigned m = 0; m < MB; ++m) {
    for (int off = 16; off > 0; off >>= 1) acc[m] += __shfl_xor_sync(0xffffffffu, acc[m], off);
    if (lane == 0 && m < nb) y[uint64_t(m) * v.rows + r] = acc[m];
  }
}

template <class T>
void launch(const LayerView& v, const T* x, uint32_t batch, float* y) {
  const size_t smem = (size_t(v.shared_len) + v.sop_codes) * sizeof(float);
  const bool stage = smem > 0 && smem <= 48 * 1024;  // larger tables (none today) stay in global memory
  const size_t bytes = stage ? smem : 0;
  const dim3 grid(row_blocks(v.rows)), block(kWarps * 32);
  if (batch <= 1) {
    fast_rows<1, T><<<grid, block, bytes>>>(v, x, batch, stage, y);
  } else if (batch <= 2) {
    fast_rows<2, T><<<grid, block, bytes>>>(v, x, batch, stage, y);
  } else if (batch <= 4) {
    fast_rows<4, T><<<grid, block, bytes>>>(v, x, batch, stage, y);
  } else if (batch <= 8) {
    fast_rows<8, T><<<grid, block, bytes>>>(v, x, batch, stage, y);
  } else {
    fast_rows<16, T><<<grid, block, bytes>>>(v, x, batch, stage, y);
  }
  CUDA_CHECK_LAUNCH("fast_rows");
}

void check_batch(uint32_t batch) {
  if (batch < 1 || batch > kMaxFastBatch)
    throw Error(ExitCode::kUsage, "gpu_gemv_fast: batch " + std::to_string(batch) + " outside 1.." +
                                      std::to_string(kMaxFastBatch));
}

}  // namespace

void gpu_gemv_fast_device(const DeviceLayer& layer, const void* d_x, uint32_t batch, ActType act, float* d_y) {
  check_batch(batch);
  const LayerView& v = layer.data().view;
  if (v.rows == 0) return;
  if (act == ActType::kF16)
    launch(v, static_cast<const __half*>(d_x), batch, d_y);
  else
    launch(v, static_cast<const __nv_bfloat16*>(d_x), batch, d_y);
}

void gpu_gemv_fast(const DeviceLayer& layer, const float* x, uint32_t batch, ActType act, float* y) {
  check_batch(batch);
  const LayerView& v = layer.data().view;
  std::vector<uint16_t> xs(size_t(batch) * v.cols);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = act == ActType::kF16 ? float_to_half(x[i]) : float_to_bf16(x[i]);
  DeviceBuffer d_x(std::max<size_t>(xs.size(), 1) * 2), d_y(std::max<size_t>(size_t(batch) * v.rows, 1) * 4);
  d_x.upload(xs.data(), xs.size() * 2);
  CUDA_CHECK(cudaMemset(d_y.get(), 0xff, d_y.size()));  // NaN: a row the kernel skips shows
  gpu_gemv_fast_device(layer, d_x.get(), batch, act, static_cast<float*>(d_y.get()));
  CUDA_CHECK(cudaDeviceSynchronize());
  d_y.download(y, size_t(batch) * v.rows * 4);
}

}  // namespace lutc::kernels::cuda

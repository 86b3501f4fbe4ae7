// gpu_decode: one warp per row writes every column's table value, then the
// row's outliers overwrite their positions (decode_rows.cuh) in the same launch.
#include <vector>

#include "cuda_check.h"
#include "decode_rows.cuh"
#include "device_layer.h"

namespace lutc::kernels::cuda {
namespace {

__global__ void decode_rows(LayerView v, float* out) {
  const uint32_t r = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x & 31;
  if (r >= v.rows) return;  // whole warps leave together: r is uniform per warp
  float* o = out + uint64_t(r) * v.cols;
  decode_lane_dense(v, r, lane, o);
  __syncwarp();  // orders the dense stores before the outlier stores to the same row
  decode_lane_outliers(v, r, lane, o);
}

}  // namespace

void gpu_decode(const DeviceLayer& layer, float* out) {
  const LayerView& v = layer.data().view;
  const size_t n = size_t(v.rows) * v.cols;
  if (!n) return;
  DeviceBuffer d_out(n * sizeof(float));
  // NaN-poison the device buffer so an element the kernel misses cannot pass
  // as a zero weight.
  CUDA_CHECK(cudaMemset(d_out.get(), 0xff, n * sizeof(float)));
  decode_rows<<<row_blocks(v.rows), kWarps * 32>>>(v, static_cast<float*>(d_out.get()));
  CUDA_CHECK_LAUNCH("decode_rows");
  CUDA_CHECK(cudaDeviceSynchronize());
  d_out.download(out, n * sizeof(float));
}

}  // namespace lutc::kernels::cuda

#pragma once
// Fused decode + GEMV on an NVIDIA GPU, the CUDA counterpart of
// lutc/kernels/cpu/gemv.h. The host packs a layer once with the CPU's
// pack_layer() (every scheme as rows x groups of one 2^b-entry table) and
// uploads it; the kernels rebuild each table entry with the golden decode's
// own fp32 operations, so decode and the exact GEMV match golden bit for bit.
//
//  - gpu_decode      : W_hat, bit-identical to golden_decode.
//  - gpu_gemv_exact  : bit-identical to golden_gemv (integer activations and
//                      weights, exact 128-bit sums, one rounding on the host).
//  - gpu_gemv_fast   : fp32 accumulation of fp16 or bf16 activations, batch
//                      1..16; compared with an fp64 reference by NMSE.
// This header pulls in no CUDA header, so plain C++ callers can use it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "lutc/kernels/cpu/packed_layer.h"
#include "lutc/model/golden.h"

namespace lutc::kernels::cuda {

constexpr uint32_t kMaxFastBatch = 16;

// False (never throws) when the CUDA runtime reports an error or no device.
bool gpu_available();
// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs)" or "" without a device.
std::string gpu_name();

enum class ActType { kF16, kBf16 };
const char* act_type_name(ActType t);

struct DeviceLayerData;  // device buffers, defined in the .cu files

// A PackedLayer resident on the GPU. Move-only; frees its buffers.
class DeviceLayer {
 public:
  explicit DeviceLayer(const PackedLayer& p);
  ~DeviceLayer();
  DeviceLayer(DeviceLayer&&) noexcept;
  DeviceLayer& operator=(DeviceLayer&&) noexcept;
  DeviceLayer(const DeviceLayer&) = delete;
  DeviceLayer& operator=(const DeviceLayer&) = delete;

  uint32_t rows() const;
  uint32_t cols() const;
  // Bytes one GEMV reads in the GPU's layout (the PackedLayer's, less the
  // group padding the dense layout drops), the basis of GB/s.
  size_t streamed_bytes() const;
  const DeviceLayerData& data() const { return *d_; }

 private:
  std::unique_ptr<DeviceLayerData> d_;
};

// W_hat (rows x cols fp32, host memory), bit-identical to golden_decode.
void gpu_decode(const DeviceLayer& layer, float* out);

// Bit-identical to golden_gemv(layer, x, batch, cfg, y); x is batch x cols,
// y batch x rows, both host memory. Any batch >= 1.
void gpu_gemv_exact(const DeviceLayer& layer, const float* x, uint32_t batch, const GemvConfig& cfg, float* y);

// x (host fp32) rounded to fp16 or bf16, y = W_hat x in fp32; batch 1..16.
void gpu_gemv_fast(const DeviceLayer& layer, const float* x, uint32_t batch, ActType act, float* y);

// The same kernel on device buffers, for timing: d_x holds batch x cols
// fp16/bf16 values, d_y receives batch x rows fp32. Launches on the default
// stream and returns without synchronizing (launch errors are still checked).
void gpu_gemv_fast_device(const DeviceLayer& layer, const void* d_x, uint32_t batch, ActType act, float* d_y);

// Timing of the fast kernel against the two yardsticks of `lutc gpu-bench`,
// measured in the same call: a device-to-device cudaMemcpy (the bandwidth
// the memory system delivers) and cuBLAS's fp16 GEMV (cublasGemmEx, fp16 in
// and out, fp32 compute) on the same shape and batch. Every measurement
// rotates over enough copies that the working set exceeds the L2 cache.
struct GpuBenchResult {
  double kernel_s = 0;        // best time per GEMV
  double copy_gbps = 0;       // cudaMemcpy D2D: (bytes read + bytes written) / time
  double cublas_s = 0;        // best time per cuBLAS fp16 GEMV
  unsigned copies = 0;        // layer copies visited in turn
  size_t streamed_bytes = 0;  // bytes one GEMV reads (DeviceLayer::streamed_bytes)
};
GpuBenchResult gpu_bench(const PackedLayer& p, uint32_t batch, ActType act, unsigned repeat);

// Bytes one GEMV reads in the GPU's layout of p, computed on the host (no
// device needed): groups of 8 or 16 are stored densely there, without the
// 32-slot padding pack_layer gives every group.
size_t gpu_streamed_bytes(const PackedLayer& p);

// Host helpers: the activations the fast path sees, as fp32.
float round_act(float x, ActType act);

}  // namespace lutc::kernels::cuda

#pragma once
// What DeviceLayer owns: the packed layer's arrays in device memory and a
// LayerView pointing at them, plus the launch helpers the kernels share.
#include <cstdint>
#include <vector>

#include "layer_view.cuh"
#include "lutc/kernels/cuda/gpu.h"

namespace lutc::kernels::cuda {

// One cudaMalloc'd buffer; freed on destruction.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr, o.n_ = 0; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* get() const { return p_; }
  size_t size() const { return n_; }
  void upload(const void* src, size_t bytes);
  void download(void* dst, size_t bytes) const;

 private:
  void* p_ = nullptr;
  size_t n_ = 0;
};

struct DeviceLayerData {
  LayerView view{};
  size_t streamed = 0;
  std::vector<DeviceBuffer> buffers;
  // Layers with more code slots than columns: kMaxFastBatch activation
  // vectors in the slot order the fast kernel reads.
  DeviceBuffer x_pad;
};

// The layer as the kernels read it, in host memory: pack_layer's arrays,
// except that xfp.v2 layers with groups of 8 or 16 get their codes laid out
// densely (LayerView::gstride = group), as pack_layer already does for sop
// b8/b16, so the padding pack_layer gives those groups (32 code slots for 8
// or 16 codes) is neither stored nor streamed. The emulator runs on it; DeviceLayer
// uploads it and swaps every pointer for its device copy.
struct HostLayout {
  LayerView view{};
  std::vector<uint8_t> dense;  // the dense codes, when used (view.indices points here)
  size_t streamed = 0;         // bytes one GEMV reads: codes, metadata, tables, outliers
  HostLayout() = default;
  HostLayout(HostLayout&&) = default;
  HostLayout(const HostLayout&) = delete;  // view.indices may point into `dense`
  HostLayout& operator=(const HostLayout&) = delete;
};
HostLayout host_layout(const PackedLayer& p);

// Activations rounded to fp16 or bf16, as the fast kernel reads them.
std::vector<uint16_t> activation_bits(const float* x, size_t n, ActType act);

// Grid for one warp per row, kWarps warps per block.
constexpr unsigned kWarps = 4;
inline unsigned row_blocks(uint32_t rows) { return (rows + kWarps - 1) / kWarps; }

}  // namespace lutc::kernels::cuda

// Uploading a packed layer: its arrays go to device memory as they are (the
// GPU reads the same bytes the CPU kernels read, so GB/s figures compare),
// and the shared tables are small enough for the fast kernel to stage in
// shared memory.
#include <cuda_runtime.h>

#include <string>

#include "cuda_check.h"
#include "device_layer.h"
#include "lutc/model/fp16.h"

namespace lutc::kernels::cuda {

DeviceBuffer::DeviceBuffer(size_t bytes) : n_(bytes) {
  if (bytes) CUDA_CHECK(cudaMalloc(&p_, bytes));
}

DeviceBuffer::~DeviceBuffer() {
  if (p_) cudaFree(p_);  // no throw from a destructor; a failure here leaves nothing to undo
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (p_) cudaFree(p_);
    p_ = o.p_, n_ = o.n_;
    o.p_ = nullptr, o.n_ = 0;
  }
  return *this;
}

void DeviceBuffer::upload(const void* src, size_t bytes) {
  if (bytes) CUDA_CHECK(cudaMemcpy(p_, src, bytes, cudaMemcpyHostToDevice));
}

void DeviceBuffer::download(void* dst, size_t bytes) const {
  if (bytes) CUDA_CHECK(cudaMemcpy(dst, p_, bytes, cudaMemcpyDeviceToHost));
}

bool gpu_available() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device / no driver" state
    return false;
  }
  return n > 0;
}

std::string gpu_name() {
  if (!gpu_available()) return "";
  int dev = 0;
  CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
  return std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ", " +
         std::to_string(prop.multiProcessorCount) + " SMs)";
}

const char* act_type_name(ActType t) { return t == ActType::kF16 ? "f16" : "bf16"; }

float round_act(float x, ActType act) {
  return act == ActType::kF16 ? half_to_float(float_to_half(x)) : bf16_to_float(float_to_bf16(x));
}

namespace {

template <class T>
const T* put(DeviceLayerData& d, const std::vector<T>& v) {
  if (v.empty()) return nullptr;
  d.buffers.emplace_back(v.size() * sizeof(T));
  d.buffers.back().upload(v.data(), v.size() * sizeof(T));
  return static_cast<const T*>(d.buffers.back().get());
}

// The kernels decode every scheme of the model's table; a code outside it
// (a corrupt layer that skipped validation) is refused here.
Scheme decodable_scheme(Scheme s) {
  if (!find_scheme_traits(s))
    throw Error(ExitCode::kBadInput, "GPU kernels: no decode for scheme code " + std::to_string(int(s)));
  return s;
}

}  // namespace

namespace {

LayerView padded_view(const PackedLayer& p) {
  LayerView v{};
  v.scheme = decodable_scheme(p.scheme);
  v.rows = p.rows, v.cols = p.cols, v.bits = p.bits, v.group = p.group;
  v.groups_per_row = p.groups_per_row, v.group_padded = p.group_padded;
  v.group_bytes = p.group_bytes, v.row_bytes = p.row_bytes;
  v.gstride = p.group_padded;
  v.row_blocks = p.padded_cols() / 32;
  auto ptr = [](const auto& vec) { return vec.empty() ? nullptr : vec.data(); };
  v.indices = p.indices.size() ? p.indices.data() : nullptr;
  v.group_half = ptr(p.group_half);
  v.sop_code8 = ptr(p.sop_code8);
  v.group_ids = ptr(p.group_ids);
  v.shared = ptr(p.shared);
  v.shared_len = uint32_t(p.shared.size());
  v.sop_scale = ptr(p.sop_scale);
  v.sop_book = ptr(p.sop_book);
  v.sop_codes = uint32_t(p.sop_scale.size());
  v.out_row_ptr = p.out_col.empty() ? nullptr : ptr(p.out_row_ptr);
  v.out_col = ptr(p.out_col);
  v.out_residual = ptr(p.out_residual);
  v.weight_exp = p.weight_exp;
  return v;
}

// Slot q of a row of 32-slot blocks in the layout code_at_slot reads.
void put_code(uint8_t* row, uint32_t q, unsigned bits, unsigned code) {
  if (bits == 4) {
    row[(q & ~31u) / 2 + (q & 15u)] |= uint8_t((q & 16u) ? code << 4 : code);
    return;
  }
  const uint64_t bit = uint64_t(q) * bits;
  const unsigned shift = unsigned(bit & 7);
  row[bit >> 3] |= uint8_t(code << shift);
  if (shift + bits > 8) row[(bit >> 3) + 1] |= uint8_t(code >> (8 - shift));
}

}  // namespace

HostLayout host_layout(const PackedLayer& p) {
  HostLayout h;
  LayerView& v = h.view;
  v = padded_view(p);
  h.streamed = p.streamed_bytes();
  // pack_layer already gives sop b8/b16 the dense layout; other groups of 8
  // or 16 (xfp.v2 --group) are repacked here.
  if (!(p.group == 8 || p.group == 16) || p.dense()) return h;
  // Dense: group g's codes in slots g*group .. g*group+group-1.
  const LayerView padded = v;
  v.gstride = p.group;
  v.row_blocks = (p.groups_per_row * p.group + 31) / 32;
  v.row_bytes = uint64_t(v.row_blocks) * 4 * p.bits;
  v.group_bytes = uint64_t(p.group) * p.bits / 8;
  h.dense.assign(size_t(v.row_bytes) * p.rows, 0);
  for (uint32_t r = 0; r < p.rows; ++r) {
    uint8_t* row = h.dense.data() + size_t(r) * v.row_bytes;
    for (uint32_t g = 0; g < p.groups_per_row; ++g)
      for (uint32_t i = 0; i < p.group; ++i) put_code(row, g * p.group + i, p.bits, code_at(padded, r, g, i));
  }
  v.indices = h.dense.empty() ? nullptr : h.dense.data();
  h.streamed = p.streamed_bytes() - p.indices.size() + h.dense.size();
  return h;
}

size_t gpu_streamed_bytes(const PackedLayer& p) { return host_layout(p).streamed; }

std::vector<uint16_t> activation_bits(const float* x, size_t n, ActType act) {
  std::vector<uint16_t> xs(n);
  for (size_t i = 0; i < n; ++i) xs[i] = act == ActType::kF16 ? float_to_half(x[i]) : float_to_bf16(x[i]);
  return xs;
}

DeviceLayer::DeviceLayer(const PackedLayer& p) : d_(std::make_unique<DeviceLayerData>()) {
  DeviceLayerData& d = *d_;
  // Buffers are pushed into a vector whose elements move on growth; the
  // device pointers stay valid because a move keeps the allocation.
  d.buffers.reserve(12);
  const HostLayout h = host_layout(p);
  LayerView& v = d.view;
  v = h.view;
  const size_t code_bytes = size_t(v.row_bytes) * v.rows;
  d.buffers.emplace_back(code_bytes);
  d.buffers.back().upload(v.indices, code_bytes);
  v.indices = static_cast<const uint8_t*>(d.buffers.back().get());
  v.group_half = put(d, p.group_half);
  v.sop_code8 = put(d, p.sop_code8);
  v.group_ids = put(d, p.group_ids);
  v.shared = put(d, p.shared);
  v.sop_scale = put(d, p.sop_scale);
  v.sop_book = put(d, p.sop_book);
  v.out_row_ptr = p.out_col.empty() ? nullptr : put(d, p.out_row_ptr);
  v.out_col = put(d, p.out_col);
  v.out_residual = put(d, p.out_residual);
  if (v.row_blocks * 32 != v.cols) d.x_pad = DeviceBuffer(size_t(kMaxFastBatch) * v.row_blocks * 32 * sizeof(uint16_t));
  d.streamed = h.streamed;
}

DeviceLayer::~DeviceLayer() = default;
DeviceLayer::DeviceLayer(DeviceLayer&&) noexcept = default;
DeviceLayer& DeviceLayer::operator=(DeviceLayer&&) noexcept = default;
uint32_t DeviceLayer::rows() const { return d_->view.rows; }
uint32_t DeviceLayer::cols() const { return d_->view.cols; }
size_t DeviceLayer::streamed_bytes() const { return d_->streamed; }

}  // namespace lutc::kernels::cuda

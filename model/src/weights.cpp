#include "lutc/model/weights.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "mapped_file.h"
#include "weight_file_parsers.h"

// Tensor bytes are little-endian on disk and are copied as host floats.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lutc weight readers assume a little-endian host"
#endif

namespace lutc {

namespace {
struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::kF32, "F32", 4},   {DType::kF16, "F16", 2},    {DType::kBF16, "BF16", 2},
    {DType::kF64, "F64", 8},   {DType::kI64, "I64", 8},    {DType::kI32, "I32", 4},
    {DType::kI16, "I16", 2},   {DType::kI8, "I8", 1},      {DType::kU64, "U64", 8},
    {DType::kU32, "U32", 4},   {DType::kU16, "U16", 2},    {DType::kU8, "U8", 1},
    {DType::kBool, "BOOL", 1}, {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kF8E5M2, "F8_E5M2", 1},
};
const DTypeInfo& info(DType d) {
  for (const auto& i : kDTypes)
    if (i.dtype == d) return i;
  return kDTypes[0];
}
}  // namespace

const char* dtype_name(DType d) { return info(d).name; }
size_t dtype_size(DType d) { return info(d).size; }
bool dtype_is_weight(DType d) { return d == DType::kF32 || d == DType::kF16 || d == DType::kBF16; }
bool parse_dtype(const std::string& name, DType* out) {
  for (const auto& i : kDTypes)
    if (name == i.name) return *out = i.dtype, true;
  return false;
}

uint64_t TensorInfo::cols() const {
  uint64_t c = 1;
  for (size_t i = 1; i < shape.size(); ++i) c *= shape[i];
  return c;
}

uint64_t TensorInfo::elements() const {
  uint64_t e = 1;
  for (uint64_t d : shape) e *= d;
  return e;
}

std::unique_ptr<WeightFile> WeightFile::open(const std::string& path) {
  auto w = WeightFileParsers::make_empty();
  WeightFileParsers::set_map(*w, std::make_unique<MappedFile>(path), path);
  const MappedFile& m = WeightFileParsers::map(*w);
  // A safetensors file starts with its JSON header at byte 8. In a llama2.c
  // checkpoint byte 8 is the low byte of n_layers, which is '{' only for 123
  // (or 379, ...) layers; such a file is llama2.c only if its size matches.
  const bool json_at_8 = m.size() > 8 && m.data()[8] == '{';
  if (json_at_8 && !WeightFileParsers::is_consistent_llama2c(m.data(), m.size())) {
    WeightFileParsers::set_format(*w, "safetensors");
    WeightFileParsers::parse_safetensors(*w);
  } else {
    WeightFileParsers::set_format(*w, "llama2c");
    WeightFileParsers::parse_llama2c(*w);
  }
  return w;
}

WeightFile::~WeightFile() = default;

const TensorInfo* WeightFile::find(const std::string& name) const {
  for (const TensorInfo& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

namespace {

void convert(const uint8_t* src, DType dtype, uint64_t count, float* out) {
  switch (dtype) {
    case DType::kF32:
      std::memcpy(out, src, size_t(count) * 4);
      return;
    case DType::kF16:
      for (uint64_t i = 0; i < count; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = half_to_float(h);
      }
      return;
    case DType::kBF16:
      for (uint64_t i = 0; i < count; ++i) {
        uint16_t b;
        std::memcpy(&b, src + 2 * i, 2);
        out[i] = bf16_to_float(b);
      }
      return;
  }
}

}  // namespace

void WeightFile::read_rows(const TensorInfo& t, uint64_t r0, uint64_t n, float* out) const {
  const uint64_t rows = t.shape.empty() ? 1 : t.rows();  // a scalar reads as one 1x1 row
  const uint64_t cols = t.cols();
  if (r0 > rows || n > rows - r0) {
    throw Error(ExitCode::kInternal,
                located(path_, t.name, -1,
                        "rows [" + std::to_string(r0) + ", " + std::to_string(r0 + n) +
                            ") requested from a tensor of " + std::to_string(rows) + " rows"));
  }
  if (!dtype_is_weight(t.dtype)) {
    fail_input(path_, t.name, static_cast<long long>(t.offset),
               std::string("dtype ") + dtype_name(t.dtype) + " is not a weight dtype (F32, F16, BF16)");
  }
  const size_t es = dtype_size(t.dtype);
  // Guards against a TensorInfo that did not come from this file.
  if (t.nbytes != t.elements() * es || t.offset > map_->size() || t.nbytes > map_->size() - t.offset) {
    throw Error(ExitCode::kInternal, located(path_, t.name, -1, "tensor does not belong to this file"));
  }
  if (n == 0 || cols == 0) return;
  const uint64_t first = r0 * cols;
  const uint64_t count = n * cols;
  convert(map_->data() + t.offset + first * es, t.dtype, count, out);
  // Exponent bits all ones = Inf or NaN: OR-reduced per block (vectorizes);
  // only a block that has one is searched for its first position.
  constexpr uint64_t kBlock = 4096;
  for (uint64_t b0 = 0; b0 < count; b0 += kBlock) {
    const uint64_t b1 = std::min(count, b0 + kBlock);
    uint32_t any = 0;
    for (uint64_t i = b0; i < b1; ++i) {
      uint32_t u;
      std::memcpy(&u, out + i, 4);
      any |= uint32_t((u & 0x7f800000u) == 0x7f800000u);
    }
    if (!any) continue;
    for (uint64_t i = b0; i < b1; ++i) {
      if (std::isfinite(out[i])) continue;
      const uint64_t row = r0 + i / cols, col = i % cols;
      fail_input(path_, t.name, static_cast<long long>(t.offset + (first + i) * es),
                 std::string(std::isnan(out[i]) ? "NaN" : "Inf") + " weight at row " +
                     std::to_string(row) + ", col " + std::to_string(col));
    }
  }
}

std::vector<float> WeightFile::read_all(const TensorInfo& t) const {
  std::vector<float> v(size_t(t.elements()));
  read_rows(t, 0, t.shape.empty() ? 1 : t.rows(), v.data());
  return v;
}

}  // namespace lutc

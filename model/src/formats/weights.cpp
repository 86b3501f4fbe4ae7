#include "lutc/model/weights.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "core/mapped_file.h"
#include "formats/weight_file_parsers.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"

// Tensor bytes are little-endian on disk and are copied as host floats.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lutc weight readers assume a little-endian host"
#endif

namespace lutc {

namespace {
struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t size;  // bytes per element; 0 for a type without one (never a safetensors dtype)
  bool weight;  // read_rows converts it to fp32
};
constexpr DTypeInfo kDTypes[] = {
    {DType::kF32, "F32", 4, true},        {DType::kF16, "F16", 2, true},         {DType::kBF16, "BF16", 2, true},
    {DType::kF64, "F64", 8, true},        {DType::kI64, "I64", 8, false},        {DType::kI32, "I32", 4, false},
    {DType::kI16, "I16", 2, false},       {DType::kI8, "I8", 1, false},          {DType::kU64, "U64", 8, false},
    {DType::kU32, "U32", 4, false},       {DType::kU16, "U16", 2, false},        {DType::kU8, "U8", 1, false},
    {DType::kBool, "BOOL", 1, false},     {DType::kF8E4M3, "F8_E4M3", 1, false}, {DType::kF8E5M2, "F8_E5M2", 1, false},
    {DType::kOpaque, "OPAQUE", 0, false},
};
const DTypeInfo& info(DType d) {
  for (const auto& i : kDTypes)
    if (i.dtype == d) return i;
  return kDTypes[0];
}
}  // namespace

const char* dtype_name(DType d) { return info(d).name; }
size_t dtype_size(DType d) { return info(d).size; }
bool dtype_is_weight(DType d) { return info(d).weight; }
bool parse_dtype(const std::string& name, DType* out) {
  for (const auto& i : kDTypes)
    if (i.size != 0 && name == i.name) return *out = i.dtype, true;
  return false;
}

const char* TensorInfo::type_name() const { return source_type.empty() ? dtype_name(dtype) : source_type.c_str(); }

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

std::unique_ptr<WeightFile> WeightFile::open(const std::string& path) { return WeightFileParsers::open_any(path); }

const char* WeightFileParsers::parse_single(WeightFile& w, uint32_t file) {
  const MappedFile& m = map(w, file);
  // A safetensors file starts with its JSON header at byte 8. In a llama2.c
  // checkpoint byte 8 is the low byte of n_layers, which is '{' only for 123
  // (or 379, ...) layers; such a file is llama2.c only if its size matches.
  const bool json_at_8 = m.size() > 8 && m.data()[8] == '{';
  if (m.size() >= 4 && std::memcmp(m.data(), "GGUF", 4) == 0) {
    parse_gguf(w, file);
    return "gguf";
  }
  if (json_at_8 && !is_consistent_llama2c(m.data(), m.size())) {
    parse_safetensors(w, file);
    return "safetensors";
  }
  parse_llama2c(w, file);
  return "llama2c";
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
    case DType::kF32: std::memcpy(out, src, size_t(count) * 4); return;
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
    case DType::kF64:
      // A double beyond the float range would be undefined to convert; it
      // becomes Inf here and read_rows reports it with the double's value.
      for (uint64_t i = 0; i < count; ++i) {
        double d;
        std::memcpy(&d, src + 8 * i, 8);
        const float inf = std::numeric_limits<float>::infinity();
        out[i] = std::isnan(d)                                       ? std::numeric_limits<float>::quiet_NaN()
                 : std::fabs(d) <= std::numeric_limits<float>::max() ? float(d)
                 : d > 0                                             ? inf
                                                                     : -inf;
      }
      return;
    default: return;  // read_rows converts weight dtypes only
  }
}

// The first Inf or NaN among the count converted values at out, if any, as
// an input error naming its row, column and file offset (and, for F64, a
// finite value outside the float range). The values are rows r0.. of t,
// starting at element `first`, read from data.
void reject_non_finite(const float* out, uint64_t count, uint64_t r0, uint64_t cols, uint64_t first, size_t es,
                       const TensorInfo& t, const uint8_t* data, const std::string& path) {
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
      const uint64_t at = t.offset + (first + i) * es;
      std::string what = std::isnan(out[i]) ? "NaN" : "Inf";
      if (t.dtype == DType::kF64) {
        double d;
        std::memcpy(&d, data + at, 8);
        if (std::isfinite(d)) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%.17g", d);
          what = std::string("F64 value ") + buf + " outside the float range";
        }
      }
      fail_input(path, t.name, static_cast<long long>(at),
                 what + " weight at row " + std::to_string(row) + ", col " + std::to_string(col));
    }
  }
}

}  // namespace

void WeightFile::read_rows(const TensorInfo& t, uint64_t r0, uint64_t n, float* out) const {
  const uint64_t rows = t.shape.empty() ? 1 : t.rows();  // a scalar reads as one 1x1 row
  const uint64_t cols = t.cols();
  if (t.file >= maps_.size()) {
    throw Error(ExitCode::kInternal, located(path_, t.name, -1, "tensor does not belong to this file"));
  }
  const MappedFile& map = *maps_[t.file];
  const std::string& path = files_[t.file];
  if (r0 > rows || n > rows - r0) {
    throw Error(ExitCode::kInternal, located(path, t.name, -1,
                                             "rows [" + std::to_string(r0) + ", " + std::to_string(r0 + n) +
                                                 ") requested from a tensor of " + std::to_string(rows) + " rows"));
  }
  if (t.dtype == DType::kOpaque) {
    fail_input(path_, t.name, static_cast<long long>(t.offset),
               "GGUF tensor type " + t.source_type +
                   " is quantized; lutc reads F32/F16/BF16/F64 tensors (re-export the GGUF in f16 or bf16, "
                   "or use the safetensors)");
  }
  if (!dtype_is_weight(t.dtype)) {
    fail_input(path, t.name, static_cast<long long>(t.offset),
               std::string("dtype ") + dtype_name(t.dtype) + " is not a weight dtype (F32, F16, BF16, F64)");
  }
  const size_t es = dtype_size(t.dtype);
  // Guards against a TensorInfo that did not come from this file.
  if (t.nbytes != t.elements() * es || t.offset > map.size() || t.nbytes > map.size() - t.offset) {
    throw Error(ExitCode::kInternal, located(path, t.name, -1, "tensor does not belong to this file"));
  }
  if (n == 0 || cols == 0) return;
  const uint64_t first = r0 * cols;
  const uint64_t count = n * cols;
  convert(map.data() + t.offset + first * es, t.dtype, count, out);
  map.release(t.offset + first * es, count * es);
  reject_non_finite(out, count, r0, cols, first, es, t, map.data(), path);
}

std::vector<uint8_t> WeightFile::read_raw(const TensorInfo& t) const {
  if (t.file >= maps_.size()) {
    throw Error(ExitCode::kInternal, located(path_, t.name, -1, "tensor does not belong to this file"));
  }
  const MappedFile& map = *maps_[t.file];
  if (t.offset > map.size() || t.nbytes > map.size() - t.offset) {
    throw Error(ExitCode::kInternal, located(files_[t.file], t.name, -1, "tensor does not belong to this file"));
  }
  std::vector<uint8_t> bytes(map.data() + t.offset, map.data() + t.offset + t.nbytes);
  map.release(t.offset, t.nbytes);
  return bytes;
}

std::vector<float> WeightFile::read_all(const TensorInfo& t) const {
  std::vector<float> v(size_t(t.elements()));
  read_rows(t, 0, t.shape.empty() ? 1 : t.rows(), v.data());
  return v;
}

}  // namespace lutc

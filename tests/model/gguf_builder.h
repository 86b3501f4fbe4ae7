#pragma once
// GGUF files built byte by byte from the public spec, independent of the
// reader: header, key/value pairs, tensor infos, padding, data.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "weight_file_builders.h"

namespace lutc::testing {

// ggml type ids and metadata value type ids from the GGUF spec.
enum GgmlTypeId : uint32_t {
  kGgmlF32 = 0,
  kGgmlF16 = 1,
  kGgmlQ8_0 = 8,
  kGgmlQ4_K = 12,
  kGgmlQ6_K = 14,
  kGgmlIQ4_XS = 23,
  kGgmlI8 = 24,
  kGgmlF64 = 28,
  kGgmlBF16 = 30,
  kGgmlTQ1_0 = 34,
  kGgmlMXFP4 = 39,
};
enum GgufValueId : uint32_t {
  kGvU8,
  kGvI8,
  kGvU16,
  kGvI16,
  kGvU32,
  kGvI32,
  kGvF32,
  kGvBool,
  kGvString,
  kGvArray,
  kGvU64,
  kGvI64,
  kGvF64,
};

inline std::vector<uint8_t> gguf_string(const std::string& s) {
  std::vector<uint8_t> out;
  append_le(out, s.size(), 8);
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

struct GgufTensorSpec {
  std::string name;
  uint32_t type = kGgmlF32;
  std::vector<uint64_t> ne;      // ne[0] innermost
  std::vector<uint8_t> data;     // the tensor's bytes
  int64_t offset = -1;           // relative to the data section; -1: laid out in order, aligned
  uint32_t n_dims_override = 0;  // nonzero: written instead of ne.size()
};

struct GgufSpec {
  uint32_t version = 3;
  uint64_t alignment = 32;  // layout alignment; a general.alignment key is the caller's
  std::vector<uint8_t> kv;  // encoded pairs
  uint64_t n_kv = 0;
  std::vector<GgufTensorSpec> tensors;
  int64_t n_tensors_override = -1;
  uint64_t extra_padding = 0;  // zero bytes added between tensors, in multiples of the alignment

  // A pair whose value bytes (after the type) are given.
  void add_kv(const std::string& key, uint32_t type, const std::vector<uint8_t>& value) {
    const std::vector<uint8_t> k = gguf_string(key);
    kv.insert(kv.end(), k.begin(), k.end());
    append_le(kv, type, 4);
    kv.insert(kv.end(), value.begin(), value.end());
    ++n_kv;
  }
  void add_string(const std::string& key, const std::string& v) { add_kv(key, kGvString, gguf_string(v)); }
  void add_u32(const std::string& key, uint32_t v) {
    std::vector<uint8_t> b;
    append_le(b, v, 4);
    add_kv(key, kGvU32, b);
  }
  void add_f32(const std::string& key, float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    std::vector<uint8_t> b;
    append_le(b, u, 4);
    add_kv(key, kGvF32, b);
  }
};

// The whole file. Tensors without an explicit offset are placed one after
// another in the data section, each at the next multiple of the alignment.
inline std::vector<uint8_t> gguf_bytes(const GgufSpec& s) {
  std::vector<uint8_t> out = {'G', 'G', 'U', 'F'};
  append_le(out, s.version, 4);
  append_le(out, s.n_tensors_override >= 0 ? uint64_t(s.n_tensors_override) : s.tensors.size(), 8);
  append_le(out, s.n_kv, 8);
  out.insert(out.end(), s.kv.begin(), s.kv.end());
  std::vector<uint64_t> offsets;
  uint64_t next = 0;
  for (const GgufTensorSpec& t : s.tensors) {
    next = (next + s.alignment - 1) / s.alignment * s.alignment;
    offsets.push_back(t.offset >= 0 ? uint64_t(t.offset) : next);
    if (t.offset < 0) next += t.data.size() + s.extra_padding * s.alignment;
  }
  for (size_t i = 0; i < s.tensors.size(); ++i) {
    const GgufTensorSpec& t = s.tensors[i];
    const std::vector<uint8_t> name = gguf_string(t.name);
    out.insert(out.end(), name.begin(), name.end());
    append_le(out, t.n_dims_override ? t.n_dims_override : t.ne.size(), 4);
    for (uint64_t d : t.ne) append_le(out, d, 8);
    append_le(out, t.type, 4);
    append_le(out, offsets[i], 8);
  }
  while (out.size() % s.alignment) out.push_back(0);
  const size_t data_start = out.size();
  for (size_t i = 0; i < s.tensors.size(); ++i) {
    const std::vector<uint8_t>& d = s.tensors[i].data;
    if (data_start + offsets[i] + d.size() > out.size()) out.resize(data_start + offsets[i] + d.size(), 0);
    std::copy(d.begin(), d.end(), out.begin() + long(data_start + offsets[i]));
  }
  return out;
}

}  // namespace lutc::testing

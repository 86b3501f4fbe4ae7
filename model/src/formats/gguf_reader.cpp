// GGUF v2/v3 (llama.cpp's format), little-endian only:
//   "GGUF", u32 version, u64 tensor count, u64 key/value count,
//   key/value pairs (string key, u32 value type, value),
//   tensor infos (string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset),
//   padding to general.alignment (default 32), then the data section; tensor
//   offsets are relative to its start and multiples of the alignment.
// Strings are a u64 length and that many bytes. ne[0] is the innermost
// dimension, so the shape lutc reports is ne reversed (a [K, N] weight has
// N rows of K columns, as in safetensors).
// Every count and length is checked against the bytes that remain before
// anything is sized by it, so a corrupt file fails with its offset, never
// with an allocation the file asked for.
#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "formats/weight_file_parsers.h"
#include "lutc/model/byte_io.h"
#include "lutc/model/error.h"

namespace lutc {
namespace {

using nlohmann::json;

// One row per ggml tensor type id: block size in elements and bytes per
// block, from the GGUF spec / ggml-common.h. A dtype other than kOpaque means
// lutc reads (or at least names) the type; kOpaque rows are block-quantized
// and are listed but never converted. Ids 4, 5 (Q4_2, Q4_3) were dropped
// from ggml before GGUF existed.
struct GgufType {
  uint32_t id;
  const char* name;
  uint32_t block;
  uint32_t block_bytes;
  DType dtype;
};
constexpr GgufType kGgufTypes[] = {
    {0, "F32", 1, 4, DType::kF32},
    {1, "F16", 1, 2, DType::kF16},
    {2, "Q4_0", 32, 18, DType::kOpaque},
    {3, "Q4_1", 32, 20, DType::kOpaque},
    {6, "Q5_0", 32, 22, DType::kOpaque},
    {7, "Q5_1", 32, 24, DType::kOpaque},
    {8, "Q8_0", 32, 34, DType::kOpaque},
    {9, "Q8_1", 32, 36, DType::kOpaque},
    {10, "Q2_K", 256, 84, DType::kOpaque},
    {11, "Q3_K", 256, 110, DType::kOpaque},
    {12, "Q4_K", 256, 144, DType::kOpaque},
    {13, "Q5_K", 256, 176, DType::kOpaque},
    {14, "Q6_K", 256, 210, DType::kOpaque},
    {15, "Q8_K", 256, 292, DType::kOpaque},
    {16, "IQ2_XXS", 256, 66, DType::kOpaque},
    {17, "IQ2_XS", 256, 74, DType::kOpaque},
    {18, "IQ3_XXS", 256, 98, DType::kOpaque},
    {19, "IQ1_S", 256, 50, DType::kOpaque},
    {20, "IQ4_NL", 32, 18, DType::kOpaque},
    {21, "IQ3_S", 256, 110, DType::kOpaque},
    {22, "IQ2_S", 256, 82, DType::kOpaque},
    {23, "IQ4_XS", 256, 136, DType::kOpaque},
    {24, "I8", 1, 1, DType::kI8},
    {25, "I16", 1, 2, DType::kI16},
    {26, "I32", 1, 4, DType::kI32},
    {27, "I64", 1, 8, DType::kI64},
    {28, "F64", 1, 8, DType::kF64},
    {29, "IQ1_M", 256, 56, DType::kOpaque},
    {30, "BF16", 1, 2, DType::kBF16},
    // 31..33 and 36..38 are repacked Q4_0 / IQ4_NL layouts that later ggml
    // versions no longer write; older files still carry them.
    {31, "Q4_0_4_4", 32, 18, DType::kOpaque},
    {32, "Q4_0_4_8", 32, 18, DType::kOpaque},
    {33, "Q4_0_8_8", 32, 18, DType::kOpaque},
    {34, "TQ1_0", 256, 54, DType::kOpaque},
    {35, "TQ2_0", 256, 66, DType::kOpaque},
    {36, "IQ4_NL_4_4", 32, 18, DType::kOpaque},
    {37, "IQ4_NL_4_8", 32, 18, DType::kOpaque},
    {38, "IQ4_NL_8_8", 32, 18, DType::kOpaque},
    {39, "MXFP4", 32, 17, DType::kOpaque},
    {40, "NVFP4", 64, 36, DType::kOpaque},
    {41, "Q1_0", 128, 18, DType::kOpaque},
};

const GgufType* gguf_type(uint32_t id) {
  for (const GgufType& t : kGgufTypes)
    if (t.id == id) return &t;
  return nullptr;
}

// Metadata value types: fixed byte size, 0 for STRING and ARRAY.
struct ValueType {
  uint32_t id;
  const char* name;
  uint32_t size;
};
enum : uint32_t { kU8, kI8, kU16, kI16, kU32, kI32, kF32, kBool, kString, kArray, kU64, kI64, kF64 };
constexpr ValueType kValueTypes[] = {
    {kU8, "UINT8", 1},   {kI8, "INT8", 1},     {kU16, "UINT16", 2},  {kI16, "INT16", 2},     {kU32, "UINT32", 4},
    {kI32, "INT32", 4},  {kF32, "FLOAT32", 4}, {kBool, "BOOL", 1},   {kString, "STRING", 0}, {kArray, "ARRAY", 0},
    {kU64, "UINT64", 8}, {kI64, "INT64", 8},   {kF64, "FLOAT64", 8},
};

constexpr uint64_t kMaxNameBytes = 65535;                    // keys and tensor names (the spec caps keys at 65535)
constexpr uint64_t kMaxStringBytes = 64ull << 20;            // a value string (chat templates are ~10 KB)
constexpr int kMaxArrayDepth = 8;                            // nested arrays; deeper is a corrupt or hostile file
constexpr uint64_t kMaxKeptElements = 256;                   // arrays larger than this stay out of metadata()
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;                  // empty key, type, one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, n_dims 1, one ne, type, offset

// The header region is read front to back by a ByteReader: every read checks
// the bytes left, and errors name the file, the tensor and the offset.
using Cursor = ByteReader;

template <typename T>
std::string shortest(T v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// A scalar value as metadata text: integers in decimal, floats in the
// shortest form that reads back to the same bits, bools as true/false.
struct Scalar {
  std::string text;
  json value;
};

Scalar read_scalar(Cursor& c, uint32_t type, const std::string& what) {
  const uint64_t at = c.pos();
  switch (type) {
    case kU8:
    case kU16:
    case kU32:
    case kU64: {
      const uint64_t v = c.le(unsigned(kValueTypes[type].size), what);
      return {std::to_string(v), json(v)};
    }
    case kI8:
    case kI16:
    case kI32:
    case kI64: {
      const int bits = int(kValueTypes[type].size) * 8;
      const uint64_t u = c.le(unsigned(bits / 8), what);
      const int64_t v = bits == 64 ? int64_t(u) : int64_t(u << (64 - bits)) >> (64 - bits);
      return {std::to_string(v), json(v)};
    }
    case kF32: {
      const uint32_t u = c.u32(what);
      float f;
      std::memcpy(&f, &u, 4);
      return {shortest(f), json(double(f))};
    }
    case kF64: {
      const uint64_t u = c.u64(what);
      double d;
      std::memcpy(&d, &u, 8);
      return {shortest(d), json(d)};
    }
    case kBool: {
      const uint64_t v = c.le(1, what);
      if (v > 1) c.fail(at, what + " is a BOOL of value " + std::to_string(v) + " (must be 0 or 1)");
      return {v ? "true" : "false", json(v != 0)};
    }
    default: {  // kString
      std::string s = c.str_u64(what, kMaxStringBytes);
      json j = s;
      return {std::move(s), std::move(j)};
    }
  }
}

void check_value_type(Cursor& c, uint64_t at, uint32_t type, const std::string& what) {
  if (type >= sizeof kValueTypes / sizeof kValueTypes[0]) {
    c.fail(at, what + " has unknown value type " + std::to_string(type));
  }
}

// Reads an array body (element type and count already known to be next).
// Small arrays come back as JSON in *out; large ones are skipped (out is set
// to null) so a 150k-entry tokenizer vocabulary is never copied.
void read_array(Cursor& c, int depth, const std::string& what, json* out, uint64_t* budget) {
  const uint64_t at = c.pos();
  const uint32_t type = c.u32(what + " element type");
  check_value_type(c, at, type, what);
  if (type == kArray && depth + 1 >= kMaxArrayDepth) {
    c.fail(at, what + " nests arrays deeper than " + std::to_string(kMaxArrayDepth) + " levels");
  }
  const uint64_t count_at = c.pos();
  const uint64_t count = c.u64(what + " element count");
  const uint64_t min_bytes = type == kString ? 8 : type == kArray ? 12 : kValueTypes[type].size;
  c.check_count(count_at, count, min_bytes, what + " element count");
  // Over the budget: the whole value is dropped (a null *out tells the caller).
  auto drop = [&out] {
    if (out) *out = json();
    out = nullptr;
  };
  if (out && count > *budget) drop();
  if (out) {
    *budget -= count;
    *out = json::array();
  }
  if (!out && type != kString && type != kArray && type != kBool) {
    c.take(count * min_bytes, what);  // fixed-size elements: skip without a loop
    return;
  }
  for (uint64_t i = 0; i < count; ++i) {
    const std::string item = what + "[" + std::to_string(i) + "]";
    if (type == kArray) {
      json sub;
      read_array(c, depth + 1, item, out ? &sub : nullptr, budget);
      if (out && sub.is_null()) drop();
      if (out) out->push_back(std::move(sub));
    } else {
      Scalar s = read_scalar(c, type, item);
      if (out) out->push_back(std::move(s.value));
    }
  }
}

uint64_t align_up(uint64_t v, uint64_t a) { return v % a == 0 ? v : v + (a - v % a); }

// GGUF key suffixes (after "<arch>.") for the hyper-parameters
// llama_config_from reads, under the names it reads them by.
constexpr std::pair<const char*, const char*> kLlamaKeys[] = {
    {"embedding_length", "dim"},
    {"feed_forward_length", "hidden_dim"},
    {"block_count", "n_layers"},
    {"attention.head_count", "n_heads"},
    {"attention.head_count_kv", "n_kv_heads"},
    {"context_length", "seq_len"},
    {"rope.freq_base", "rope_theta"},
    {"attention.layer_norm_rms_epsilon", "rms_norm_eps"},
    {"expert_count", "n_experts"},
    {"expert_used_count", "n_experts_per_tok"},
    {"expert_feed_forward_length", "moe_hidden_dim"},
    {"expert_shared_feed_forward_length", "shared_expert_hidden_dim"},
};

void add_llama_names(std::map<std::string, std::string>& md, const std::vector<TensorInfo>& tensors) {
  const auto arch = md.find("general.architecture");
  if (arch != md.end()) {
    for (const auto& [suffix, name] : kLlamaKeys) {
      const auto it = md.find(arch->second + "." + suffix);
      if (it != md.end()) md.emplace(name, it->second);
    }
  }
  bool has_embedding = false, has_output = false;
  for (const TensorInfo& t : tensors) {
    if (t.name == "token_embd.weight") {
      has_embedding = true;
      md.emplace("vocab_size", std::to_string(t.rows()));
    }
    has_output = has_output || t.name == "output.weight";
  }
  // llama.cpp ties the classifier to the embedding when output.weight is absent.
  if (has_embedding) md.emplace("tied_embeddings", has_output ? "false" : "true");
}

TensorInfo read_tensor_info(Cursor& c, uint64_t index) {
  c.set_layer("");
  TensorInfo t;
  const uint64_t start = c.pos();
  t.name = c.str_u64("tensor info " + std::to_string(index) + " name", kMaxNameBytes);
  c.set_layer(t.name);
  const uint64_t dims_at = c.pos();
  const uint32_t n_dims = c.u32("n_dims");
  if (n_dims < 1 || n_dims > 4) c.fail(dims_at, "n_dims " + std::to_string(n_dims) + " is outside 1..4");
  std::vector<uint64_t> ne(n_dims);
  unsigned __int128 elements = 1;
  for (uint32_t i = 0; i < n_dims; ++i) {
    const uint64_t at = c.pos();
    ne[i] = c.u64("ne[" + std::to_string(i) + "]");
    if (ne[i] > uint64_t(std::numeric_limits<int64_t>::max())) {
      c.fail(at, "ne[" + std::to_string(i) + "] = " + std::to_string(ne[i]) + " is negative as int64");
    }
    elements *= ne[i];
    if (elements > std::numeric_limits<int64_t>::max()) c.fail(at, "shape overflows: more than 2^63 elements");
  }
  const uint64_t type_at = c.pos();
  const uint32_t type_id = c.u32("tensor type");
  const GgufType* type = gguf_type(type_id);
  if (!type) c.fail(type_at, "unknown GGUF tensor type id " + std::to_string(type_id));
  t.offset = c.u64("tensor data offset");  // relative for now
  if (ne[0] % type->block != 0) {
    c.fail(start, "ne[0] = " + std::to_string(ne[0]) + " is not a multiple of the " + type->name + " block of " +
                      std::to_string(type->block));
  }
  const unsigned __int128 bytes = elements / type->block * type->block_bytes;
  if (bytes > std::numeric_limits<int64_t>::max()) c.fail(start, "tensor byte size overflows");
  t.nbytes = uint64_t(bytes);
  t.dtype = type->dtype;
  if (type->dtype == DType::kOpaque) t.source_type = type->name;
  t.shape.assign(ne.rbegin(), ne.rend());
  return t;
}

// Versions 2 and 3; a byte-swapped version field names a big-endian file.
void check_version(Cursor& c) {
  const uint32_t version = c.u32("GGUF version");
  if (version != 2 && version != 3) {
    const uint32_t swapped = __builtin_bswap32(version);
    if (swapped >= 1 && swapped <= 3) {
      c.fail(4, "big-endian GGUF (version field reads " + std::to_string(swapped) +
                    " byte-swapped); lutc reads little-endian GGUF only");
    }
    c.fail(4, "unsupported GGUF version " + std::to_string(version) + " (lutc reads versions 2 and 3)");
  }
}

// One metadata value (its type already read at type_at) into md[key] as
// text; general.alignment is checked and set into *alignment.
void read_metadata_value(Cursor& c, const std::string& key, uint32_t type, uint64_t type_at,
                         std::map<std::string, std::string>& md, uint64_t* alignment) {
  const std::string what = "metadata '" + key + "'";
  check_value_type(c, type_at, type, what);
  if (key == "general.alignment") {
    const uint64_t at = c.pos();
    if (type != kU32) c.fail(type_at, "general.alignment must be UINT32, not " + std::string(kValueTypes[type].name));
    *alignment = c.u32(what);
    if (*alignment == 0 || (*alignment & (*alignment - 1)) != 0) {
      c.fail(at, "general.alignment " + std::to_string(*alignment) + " is not a power of two");
    }
    md[key] = std::to_string(*alignment);
  } else if (type == kArray) {
    json value;
    uint64_t budget = kMaxKeptElements;
    read_array(c, 0, what, &value, &budget);
    // GGUF strings should be UTF-8, but a listing must not die on one
    // that is not: such bytes are shown as U+FFFD, as the text listing does.
    if (!value.is_null()) md[key] = value.dump(-1, ' ', false, json::error_handler_t::replace);
  } else {
    md[key] = read_scalar(c, type, what).text;
  }
}

// The n_kv metadata pairs into md; returns the data alignment (32 unless
// general.alignment says otherwise).
uint64_t read_metadata(Cursor& c, uint64_t n_kv, std::map<std::string, std::string>& md) {
  std::set<std::string> keys;
  uint64_t alignment = 32;
  for (uint64_t i = 0; i < n_kv; ++i) {
    const uint64_t key_at = c.pos();
    const std::string key = c.str_u64("metadata key " + std::to_string(i), kMaxNameBytes);
    if (!keys.insert(key).second) c.fail(key_at, "metadata key '" + key + "' appears twice");
    const uint64_t type_at = c.pos();
    const uint32_t type = c.u32("type of metadata '" + key + "'");
    read_metadata_value(c, key, type, type_at, md, &alignment);
  }
  return alignment;
}

// The n_tensors tensor infos, names unique; info_at gets where each starts.
std::vector<TensorInfo> read_tensor_infos(Cursor& c, uint64_t n_tensors, uint32_t file_index,
                                          std::vector<uint64_t>* info_at) {
  std::vector<TensorInfo> ts;
  std::set<std::string> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    info_at->push_back(c.pos());
    ts.push_back(read_tensor_info(c, i));
    ts.back().file = file_index;
    if (!names.insert(ts.back().name).second) c.fail(info_at->back(), "tensor name appears twice");
  }
  return ts;
}

// Each tensor's offset checked against the alignment and the data section
// [data_start, +data_size), then made absolute.
void place_tensors(const std::string& file, const std::vector<uint64_t>& info_at, uint64_t alignment,
                   uint64_t data_start, uint64_t data_size, std::vector<TensorInfo>& ts) {
  for (size_t i = 0; i < ts.size(); ++i) {
    TensorInfo& t = ts[i];
    if (t.offset % alignment != 0) {
      fail_input(file, t.name, static_cast<long long>(info_at[i]),
                 "data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                     std::to_string(alignment));
    }
    if (t.offset > data_size || t.nbytes > data_size - t.offset) {
      fail_input(file, t.name, static_cast<long long>(info_at[i]),
                 "data [" + std::to_string(t.offset) + ", +" + std::to_string(t.nbytes) +
                     ") runs past the end of the data section (" + std::to_string(data_size) +
                     " bytes; file truncated?)");
    }
    t.offset += data_start;
  }
}

// Overlaps, checked in offset order; the listing keeps the file's order.
void check_overlaps(const std::string& file, const std::vector<TensorInfo>& ts) {
  std::vector<const TensorInfo*> by_offset;
  for (const TensorInfo& t : ts)
    if (t.nbytes) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorInfo& prev = *by_offset[i - 1];
    if (prev.offset + prev.nbytes > by_offset[i]->offset) {
      fail_input(file, by_offset[i]->name, static_cast<long long>(by_offset[i]->offset),
                 "data overlaps tensor '" + prev.name + "' (which ends at offset " +
                     std::to_string(prev.offset + prev.nbytes) + ")");
    }
  }
}

}  // namespace

void WeightFileParsers::parse_gguf(WeightFile& w, uint32_t file_index) {
  const MappedFile& m = map(w, file_index);
  const std::string& file = m.path();
  Cursor c(m.data(), 0, m.size(), file);
  c.take(4, "GGUF magic");
  check_version(c);
  const uint64_t n_tensors = c.u64("tensor count");
  const uint64_t n_kv = c.u64("metadata key/value count");
  c.check_count(8, n_kv, kMinKvBytes, "metadata key/value count");
  c.check_count(16, n_tensors, kMinTensorInfoBytes, "tensor count");

  std::map<std::string, std::string>& md = metadata(w);
  const uint64_t alignment = read_metadata(c, n_kv, md);

  // This file's tensors; appended to the WeightFile's list once all are checked.
  std::vector<uint64_t> info_at;
  std::vector<TensorInfo> ts = read_tensor_infos(c, n_tensors, file_index, &info_at);
  c.set_layer("");
  const uint64_t data_start = align_up(c.pos(), alignment);
  if (data_start > m.size()) {
    c.fail(c.pos(), "data section would start at " + std::to_string(data_start) + ", past the end of the file (" +
                        std::to_string(m.size()) + " bytes; truncated?)");
  }
  place_tensors(file, info_at, alignment, data_start, m.size() - data_start, ts);
  check_overlaps(file, ts);
  add_llama_names(md, ts);
  std::vector<TensorInfo>& all = tensors(w);
  all.insert(all.end(), ts.begin(), ts.end());
}

}  // namespace lutc

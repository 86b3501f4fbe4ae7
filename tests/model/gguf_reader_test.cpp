// GGUF input: files written byte by byte (gguf_builder.h) read back exactly,
// quantized tensors listed but refused by name, and the real stories260K
// weights carried through an F32 GGUF bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "gguf_builder.h"
#include "lutc/model/error.h"
#include "lutc/model/llama.h"
#include "lutc/model/matrix_source.h"
#include "lutc/model/roles.h"
#include "lutc/model/weights.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace lutc::testing;
using nlohmann::json;

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

std::string write_gguf(const GgufSpec& s, const std::string& name = "model.gguf") {
  const std::string path = temp_dir() + "/" + name;
  write_file(path, gguf_bytes(s));
  return path;
}

// A random metadata value: its encoding and what metadata() must show.
struct RandomValue {
  uint32_t type = 0;
  std::vector<uint8_t> bytes;
  std::string text;  // expected metadata text for integer, bool and string scalars
  json value;        // expected JSON for arrays (and array elements)
  bool is_float = false;
  double number = 0;  // float scalars: the exact value (a float is held exactly)
};

RandomValue random_scalar(std::mt19937_64& rng, uint32_t type) {
  RandomValue v;
  v.type = type;
  static const int kSize[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
  if (type == kGvString) {
    std::string s;
    const size_t n = rng() % 20;
    for (size_t i = 0; i < n; ++i) s.push_back(char(' ' + rng() % 95));
    v.bytes = gguf_string(s);
    v.text = s;
    v.value = s;
    return v;
  }
  const int size = kSize[type];
  uint64_t u = rng();
  if (size < 8) u &= (uint64_t(1) << (8 * size)) - 1;
  if (type == kGvBool) u &= 1;
  if (type == kGvF32) u = uint32_t(rng() & 0x807fffffu) | uint32_t(100 + rng() % 50) << 23;
  if (type == kGvF64) u = (rng() & 0x800fffffffffffffull) | uint64_t(900 + rng() % 250) << 52;
  append_le(v.bytes, u, size);
  switch (type) {
    case kGvU8:
    case kGvU16:
    case kGvU32:
    case kGvU64:
      v.text = std::to_string(u);
      v.value = u;
      break;
    case kGvI8:
    case kGvI16:
    case kGvI32:
    case kGvI64: {
      const int shift = 64 - 8 * size;
      const int64_t s = int64_t(u << shift) >> shift;
      v.text = std::to_string(s);
      v.value = s;
      break;
    }
    case kGvBool:
      v.text = u ? "true" : "false";
      v.value = bool(u);
      break;
    case kGvF32: {
      float f;
      const uint32_t b = uint32_t(u);
      std::memcpy(&f, &b, 4);
      v.is_float = true;
      v.number = f;
      v.value = double(f);
      break;
    }
    default: {  // F64
      double d;
      std::memcpy(&d, &u, 8);
      v.is_float = true;
      v.number = d;
      v.value = d;
    }
  }
  return v;
}

// An array of random scalars, or (when depth allows) of arrays.
RandomValue random_array(std::mt19937_64& rng, int depth) {
  RandomValue v;
  v.type = kGvArray;
  const bool nested = depth < 3 && rng() % 3 == 0;
  uint32_t elem = nested ? uint32_t(kGvArray) : uint32_t(rng() % 13);
  if (elem == kGvArray && !nested) elem = kGvString;
  const uint64_t count = rng() % 6;
  append_le(v.bytes, elem, 4);
  append_le(v.bytes, count, 8);
  v.value = json::array();
  for (uint64_t i = 0; i < count; ++i) {
    RandomValue e = elem == kGvArray ? random_array(rng, depth + 1) : random_scalar(rng, elem);
    v.bytes.insert(v.bytes.end(), e.bytes.begin(), e.bytes.end());
    v.value.push_back(e.value);
  }
  return v;
}

std::vector<uint64_t> random_ne(std::mt19937_64& rng) {
  std::vector<uint64_t> ne(1 + rng() % 4);
  for (uint64_t& d : ne) d = 1 + rng() % (ne.size() > 2 ? 5 : 24);
  return ne;
}

TEST(GgufReader, RandomTensorsAndMetadataReadBackExactly) {
  std::mt19937_64 rng(fresh_seed());
  for (int round = 0; round < 8; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    GgufSpec spec;
    spec.version = rng() % 2 ? 3 : 2;
    const uint64_t alignments[] = {32, 8, 64, 1, 256};
    spec.alignment = alignments[rng() % 5];
    spec.extra_padding = rng() % 3;

    std::map<std::string, RandomValue> values;
    const size_t n_kv = rng() % 12;
    for (size_t i = 0; i < n_kv; ++i) {
      const std::string key = "test.k" + std::to_string(i) + "." + std::to_string(rng() % 1000);
      const uint32_t type = uint32_t(rng() % 13);
      RandomValue v = type == kGvArray ? random_array(rng, 0) : random_scalar(rng, type);
      spec.add_kv(key, v.type, v.bytes);
      values[key] = v;
    }
    if (spec.alignment != 32) spec.add_u32("general.alignment", uint32_t(spec.alignment));
    // A large array (a tokenizer vocabulary) stays out of metadata().
    std::vector<uint8_t> vocab;
    const uint64_t n_vocab = 300 + rng() % 100;
    append_le(vocab, kGvString, 4);
    append_le(vocab, n_vocab, 8);
    for (uint64_t i = 0; i < n_vocab; ++i) {
      const std::vector<uint8_t> s = gguf_string("tok" + std::to_string(i));
      vocab.insert(vocab.end(), s.begin(), s.end());
    }
    spec.add_kv("tokenizer.ggml.tokens", kGvArray, vocab);

    const char* types[] = {"F32", "F16", "BF16", "F64"};
    const uint32_t ids[] = {kGgmlF32, kGgmlF16, kGgmlBF16, kGgmlF64};
    std::vector<RawTensor> raw;
    const size_t n = 1 + rng() % 6;
    for (size_t i = 0; i < n; ++i) {
      const size_t k = rng() % 4;
      const std::vector<uint64_t> ne = random_ne(rng);
      raw.push_back(random_tensor(rng, "blk." + std::to_string(i) + ".t" + std::to_string(rng() % 100), types[k],
                                  std::vector<uint64_t>(ne.rbegin(), ne.rend())));
      spec.tensors.push_back({raw.back().name, ids[k], ne, raw.back().bytes});
    }
    const std::string path = write_gguf(spec);

    auto w = WeightFile::open(path);
    EXPECT_EQ(w->format(), "gguf");
    ASSERT_EQ(w->tensors().size(), n);
    for (size_t i = 0; i < n; ++i) {
      const TensorInfo& t = w->tensors()[i];
      SCOPED_TRACE(raw[i].name);
      EXPECT_EQ(t.name, raw[i].name) << "listed in the file's order";
      EXPECT_STREQ(t.type_name(), raw[i].dtype.c_str());
      EXPECT_EQ(t.shape, raw[i].shape) << "shape is ne reversed";
      EXPECT_EQ(t.nbytes, raw[i].bytes.size());
      EXPECT_EQ(t.offset % spec.alignment, 0u);
      EXPECT_TRUE(same_bits(w->read_all(t), raw[i].expected));
      const uint64_t rows = t.rows(), cols = t.cols();
      const uint64_t r0 = rng() % rows, cnt = 1 + rng() % (rows - r0);
      std::vector<float> part(cnt * cols);
      w->read_rows(t, r0, cnt, part.data());
      EXPECT_TRUE(same_bits(part, std::vector<float>(raw[i].expected.begin() + long(r0 * cols),
                                                     raw[i].expected.begin() + long((r0 + cnt) * cols))));
    }

    const auto& md = w->metadata();
    EXPECT_EQ(md.count("tokenizer.ggml.tokens"), 0u) << "a large array is not copied";
    for (const auto& [key, v] : values) {
      SCOPED_TRACE(key);
      ASSERT_EQ(md.count(key), 1u);
      const std::string& got = md.at(key);
      if (v.type == kGvArray) {
        EXPECT_EQ(json::parse(got), v.value) << got;
      } else if (v.type == kGvF32) {
        const float f = std::strtof(got.c_str(), nullptr), want = float(v.number);
        EXPECT_EQ(std::memcmp(&f, &want, 4), 0) << got;
      } else if (v.type == kGvF64) {
        const double d = std::strtod(got.c_str(), nullptr);
        EXPECT_EQ(std::memcmp(&d, &v.number, 8), 0) << got;
      } else {
        EXPECT_EQ(got, v.text);
      }
    }
  }
}

// Random bytes: a quantized tensor's content is opaque to lutc.
std::vector<uint8_t> noise(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> b(n);
  for (uint8_t& x : b) x = uint8_t(rng());
  return b;
}

TEST(GgufReader, QuantizedAndIntegerTensorsAreListedAndRefusedByName) {
  std::mt19937_64 rng(fresh_seed());
  const uint64_t rows = 1 + rng() % 4;
  // Block sizes and bytes per block from the GGUF spec (ggml-common.h).
  struct Case {
    uint32_t id;
    const char* name;
    uint64_t block, bytes;
  };
  const Case cases[] = {{kGgmlQ4_K, "Q4_K", 256, 144},  {kGgmlQ8_0, "Q8_0", 32, 34},
                        {kGgmlQ6_K, "Q6_K", 256, 210},  {kGgmlIQ4_XS, "IQ4_XS", 256, 136},
                        {kGgmlTQ1_0, "TQ1_0", 256, 54}, {kGgmlMXFP4, "MXFP4", 32, 17}};
  GgufSpec spec;
  spec.add_string("general.architecture", "llama");
  std::vector<uint64_t> cols;
  for (const Case& c : cases) {
    const uint64_t k = c.block * (1 + rng() % 3);
    cols.push_back(k);
    spec.tensors.push_back(
        {std::string("blk.0.") + c.name, c.id, {k, rows}, noise(rng, size_t(rows * k / c.block * c.bytes))});
  }
  const RawTensor i8 = random_tensor(rng, "i8", "F32", {rows, 8});  // its bytes, read as 4*rows*8 int8
  spec.tensors.push_back({"blk.0.int8", kGgmlI8, {32, rows}, i8.bytes});
  const RawTensor f = random_tensor(rng, "blk.0.f", "F32", {rows, 16});
  spec.tensors.push_back({f.name, kGgmlF32, {16, rows}, f.bytes});
  const std::string path = write_gguf(spec);

  auto w = WeightFile::open(path);
  ASSERT_EQ(w->tensors().size(), std::size(cases) + 2);
  for (size_t i = 0; i < std::size(cases); ++i) {
    const TensorInfo& t = w->tensors()[i];
    SCOPED_TRACE(cases[i].name);
    EXPECT_EQ(t.dtype, DType::kOpaque);
    EXPECT_STREQ(t.type_name(), cases[i].name);
    EXPECT_FALSE(dtype_is_weight(t.dtype));
    EXPECT_EQ(t.shape, (std::vector<uint64_t>{rows, cols[i]}));
    EXPECT_EQ(t.nbytes, rows * cols[i] / cases[i].block * cases[i].bytes);
    try {
      w->read_all(t);
      ADD_FAILURE() << "a quantized tensor was read";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput);
      const std::string msg = e.what();
      for (const std::string& s : {std::string("GGUF tensor type ") + cases[i].name + " is quantized", t.name, path})
        EXPECT_NE(msg.find(s), std::string::npos) << "lacks '" << s << "': " << msg;
    }
  }
  const TensorInfo* t8 = w->find("blk.0.int8");
  ASSERT_NE(t8, nullptr);
  EXPECT_EQ(t8->dtype, DType::kI8);
  EXPECT_STREQ(t8->type_name(), "I8");
  try {
    w->read_all(*t8);
    ADD_FAILURE() << "an int8 tensor was read as weights";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("I8"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(same_bits(w->read_all(*w->find(f.name)), f.expected)) << "a float tensor beside them still reads";
}

TEST(GgufReader, MatrixSourceRefusesAQuantizedMatrixByName) {
  std::mt19937_64 rng(fresh_seed());
  GgufSpec spec;
  const RawTensor norm = random_tensor(rng, "blk.0.attn_norm.weight", "F32", {256});
  spec.tensors.push_back({norm.name, kGgmlF32, {256}, norm.bytes});
  const uint64_t rows = 1 + rng() % 4;
  spec.tensors.push_back({"blk.0.attn_q.weight", kGgmlQ6_K, {256, rows}, noise(rng, size_t(rows * 210))});
  const std::string path = write_gguf(spec);
  try {
    MatrixSource::open(path);
    ADD_FAILURE() << "a quantized matrix was skipped silently";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("GGUF tensor type Q6_K is quantized"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("blk.0.attn_q.weight"), std::string::npos) << e.what();
  }
}

// Hugging Face Llama names to the names llama.cpp's converter writes.
std::string gguf_name(const std::string& hf) {
  const std::pair<const char*, const char*> map[] = {
      {"self_attn.q_proj", "attn_q"},      {"self_attn.k_proj", "attn_k"},   {"self_attn.v_proj", "attn_v"},
      {"self_attn.o_proj", "attn_output"}, {"mlp.gate_proj", "ffn_gate"},    {"mlp.up_proj", "ffn_up"},
      {"mlp.down_proj", "ffn_down"},       {"input_layernorm", "attn_norm"}, {"post_attention_layernorm", "ffn_norm"},
  };
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  const std::string prefix = "model.layers.";
  if (hf.rfind(prefix, 0) != 0) return hf;
  const size_t dot = hf.find('.', prefix.size());
  const std::string layer = hf.substr(prefix.size(), dot - prefix.size());
  std::string rest = hf.substr(dot + 1);
  for (const auto& [from, to] : map)
    if (rest.rfind(std::string(from) + ".", 0) == 0) rest = to + rest.substr(std::strlen(from));
  return "blk." + layer + "." + rest;
}

TEST(GgufReader, Stories260KThroughAnF32GgufIsBitIdentical) {
  const std::string st = shared_data("stories260K/stories260K.safetensors");
  if (!require_file(st)) return;
  auto src = WeightFile::open(st);
  const auto& smd = src->metadata();
  auto u32 = [&](const char* k) { return uint32_t(std::stoul(smd.at(k))); };

  GgufSpec spec;
  spec.add_string("general.architecture", "llama");
  spec.add_string("general.name", "stories260K");
  spec.add_u32("llama.embedding_length", u32("dim"));
  spec.add_u32("llama.feed_forward_length", u32("hidden_dim"));
  spec.add_u32("llama.block_count", u32("n_layers"));
  spec.add_u32("llama.attention.head_count", u32("n_heads"));
  spec.add_u32("llama.attention.head_count_kv", u32("n_kv_heads"));
  spec.add_u32("llama.context_length", u32("seq_len"));
  spec.add_f32("llama.rope.freq_base", 10000.0f);
  spec.add_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  std::vector<std::vector<float>> values;
  for (const TensorInfo& t : src->tensors()) {
    values.push_back(src->read_all(t));
    std::vector<uint8_t> bytes(values.back().size() * 4);
    std::memcpy(bytes.data(), values.back().data(), bytes.size());
    spec.tensors.push_back(
        {gguf_name(t.name), kGgmlF32, std::vector<uint64_t>(t.shape.rbegin(), t.shape.rend()), bytes});
  }
  const std::string path = write_gguf(spec, "stories260K.gguf");

  auto g = WeightFile::open(path);
  ASSERT_EQ(g->tensors().size(), src->tensors().size());
  const RoleRules rules;
  for (size_t i = 0; i < src->tensors().size(); ++i) {
    const TensorInfo& a = src->tensors()[i];
    const TensorInfo& b = g->tensors()[i];
    SCOPED_TRACE(a.name + " / " + b.name);
    EXPECT_EQ(b.name, gguf_name(a.name));
    EXPECT_EQ(b.shape, a.shape);
    EXPECT_EQ(b.dtype, DType::kF32);
    EXPECT_TRUE(same_bits(g->read_all(b), values[i]));
    EXPECT_STREQ(role_name(rules.classify(b.name)), role_name(rules.classify(a.name))) << "same role as the HF name";
  }

  const LlamaConfig want = llama_config_from(*src), got = llama_config_from(*g);
  EXPECT_EQ(got.dim, want.dim);
  EXPECT_EQ(got.hidden_dim, want.hidden_dim);
  EXPECT_EQ(got.n_layers, want.n_layers);
  EXPECT_EQ(got.n_heads, want.n_heads);
  EXPECT_EQ(got.n_kv_heads, want.n_kv_heads);
  EXPECT_EQ(got.vocab_size, want.vocab_size) << "from token_embd.weight";
  EXPECT_EQ(got.seq_len, want.seq_len);
  EXPECT_EQ(got.tied_classifier, want.tied_classifier) << "no output.weight: tied";
  EXPECT_EQ(got.rope_theta, 10000.0f);
  EXPECT_EQ(got.rms_eps, 1e-5f);
  EXPECT_EQ(got.n_experts, 0u);
  EXPECT_EQ(g->metadata().at("general.name"), "stories260K");
}

TEST(GgufReader, MoeHyperParametersMapToTheLlamaNames) {
  std::mt19937_64 rng(fresh_seed());
  const uint32_t experts = 2 + uint32_t(rng() % 60), used = 1 + uint32_t(rng() % experts);
  const uint32_t heads = 1 + uint32_t(rng() % 8), dim = heads * 2 * (1 + uint32_t(rng() % 8));
  const uint32_t vocab = 1 + uint32_t(rng() % 50);
  GgufSpec spec;
  spec.add_string("general.architecture", "qwen2moe");
  spec.add_u32("qwen2moe.embedding_length", dim);
  spec.add_u32("qwen2moe.block_count", 1 + uint32_t(rng() % 4));
  spec.add_u32("qwen2moe.attention.head_count", heads);
  spec.add_u32("qwen2moe.context_length", 64);
  spec.add_u32("qwen2moe.expert_count", experts);
  spec.add_u32("qwen2moe.expert_used_count", used);
  spec.add_u32("qwen2moe.expert_feed_forward_length", 24);
  spec.add_u32("qwen2moe.expert_shared_feed_forward_length", 40);
  const RawTensor emb = random_tensor(rng, "token_embd.weight", "F32", {vocab, dim});
  spec.tensors.push_back({emb.name, kGgmlF32, {dim, vocab}, emb.bytes});
  const RawTensor out = random_tensor(rng, "output.weight", "F32", {vocab, dim});
  spec.tensors.push_back({out.name, kGgmlF32, {dim, vocab}, out.bytes});
  auto w = WeightFile::open(write_gguf(spec));
  const LlamaConfig c = llama_config_from(*w);
  EXPECT_EQ(c.dim, dim);
  EXPECT_EQ(c.n_heads, heads);
  EXPECT_EQ(c.n_kv_heads, heads) << "head_count_kv absent: n_heads";
  EXPECT_EQ(c.vocab_size, vocab);
  EXPECT_EQ(c.n_experts, experts);
  EXPECT_EQ(c.n_experts_per_tok, used);
  EXPECT_EQ(c.moe_hidden_dim, 24u);
  EXPECT_EQ(c.shared_hidden_dim, 40u);
  EXPECT_FALSE(c.tied_classifier) << "output.weight present";
}

}  // namespace
}  // namespace lutc

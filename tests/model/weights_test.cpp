#include "lutc/model/weights.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "lutc/model/error.h"
#include "test_data.h"
#include "weight_file_builders.h"

namespace lutc {
namespace {

using namespace lutc::testing;

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

std::vector<uint64_t> random_shape(std::mt19937_64& rng) {
  switch (rng() % 3) {
    case 0: return {1 + rng() % 40};
    case 1: return {1 + rng() % 30, 1 + rng() % 50};
    default: return {1 + rng() % 6, 1 + rng() % 5, 1 + rng() % 7};
  }
}

TEST(WeightsSafetensors, ReadsHandBuiltFileOfEveryDtype) {
  std::mt19937_64 rng(fresh_seed());
  const char* dtypes[] = {"F32", "F16", "BF16", "F64"};
  std::vector<RawTensor> tensors;
  const size_t n = 4 + rng() % 5;
  for (size_t i = 0; i < n; ++i) {
    tensors.push_back(random_tensor(rng, "blk." + std::to_string(i) + ".w", dtypes[i % 4], random_shape(rng)));
  }
  std::vector<size_t> data_order(n);
  for (size_t i = 0; i < n; ++i) data_order[i] = i;
  std::shuffle(data_order.begin(), data_order.end(), rng);
  const std::map<std::string, std::string> md = {{"origin", "test-" + std::to_string(rng() % 1000)}, {"k", "v"}};
  SafetensorsParts parts = safetensors_parts(tensors, data_order, md);
  parts.header.append(rng() % 8, ' ');  // writers may pad the header with spaces
  const std::string path = temp_dir() + "/hand.safetensors";
  write_file(path, safetensors_bytes(parts));

  auto w = WeightFile::open(path);
  EXPECT_EQ(w->format(), "safetensors");
  EXPECT_EQ(w->path(), path);
  EXPECT_EQ(w->metadata(), md);
  ASSERT_EQ(w->tensors().size(), n);
  for (size_t i = 1; i < n; ++i) EXPECT_LT(w->tensors()[i - 1].offset, w->tensors()[i].offset) << "file order";
  const uint64_t data_start = 8 + parts.header.size();
  for (const RawTensor& raw : tensors) {
    SCOPED_TRACE(raw.name);
    const TensorInfo* t = w->find(raw.name);
    ASSERT_NE(t, nullptr);
    EXPECT_STREQ(dtype_name(t->dtype), raw.dtype.c_str());
    EXPECT_EQ(t->shape, raw.shape);
    EXPECT_EQ(t->nbytes, raw.bytes.size());
    EXPECT_EQ(std::memcmp(read_file(path).data() + t->offset, raw.bytes.data(), raw.bytes.size()), 0);
    EXPECT_GE(t->offset, data_start);
    EXPECT_TRUE(same_bits(w->read_all(*t), raw.expected));

    // A random row range alone.
    const uint64_t rows = t->rows(), cols = t->cols();
    const uint64_t r0 = rng() % rows, cnt = 1 + rng() % (rows - r0);
    std::vector<float> part(cnt * cols, -7.0f);
    w->read_rows(*t, r0, cnt, part.data());
    const std::vector<float> want(raw.expected.begin() + long(r0 * cols),
                                  raw.expected.begin() + long((r0 + cnt) * cols));
    EXPECT_TRUE(same_bits(part, want));
  }
  EXPECT_EQ(w->find("absent"), nullptr);
}

TEST(WeightsSafetensors, WriteThenReadRoundTrips) {
  std::mt19937_64 rng(fresh_seed());
  std::vector<RawTensor> raw;
  for (int i = 0; i < 4; ++i)
    raw.push_back(
        random_tensor(rng, "t" + std::to_string(rng() % 100000) + "_" + std::to_string(i), "F32", random_shape(rng)));
  std::vector<NamedMatrix> named;
  for (const RawTensor& r : raw) named.push_back({r.name, r.shape, r.expected.data()});
  const std::map<std::string, std::string> md = {{"dim", std::to_string(rng() % 4096)}, {"note", "x y"}};
  const std::string path = temp_dir() + "/written.safetensors";
  write_safetensors(path, named, md);

  // The container itself, checked without the reader.
  const std::vector<uint8_t> bytes = read_file(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[size_t(i)];
  ASSERT_LE(8 + n, bytes.size());
  EXPECT_EQ((8 + n) % 8, 0u) << "data section must start 8-byte aligned";
  const std::string header(bytes.begin() + 8, bytes.begin() + 8 + long(n));
  const auto j = nlohmann::json::parse(header);
  using StringMap = std::map<std::string, std::string>;
  EXPECT_EQ(j["__metadata__"].get<StringMap>(), md);
  uint64_t data_bytes = 0;
  for (const RawTensor& r : raw) {
    EXPECT_EQ(j[r.name]["dtype"], "F32");
    EXPECT_EQ(j[r.name]["shape"].get<std::vector<uint64_t>>(), r.shape);
    const auto off = j[r.name]["data_offsets"].get<std::vector<uint64_t>>();
    EXPECT_EQ(std::memcmp(bytes.data() + 8 + n + off[0], r.bytes.data(), r.bytes.size()), 0);
    data_bytes += r.bytes.size();
  }
  EXPECT_EQ(bytes.size(), 8 + n + data_bytes);

  auto w = WeightFile::open(path);
  EXPECT_EQ(w->metadata(), md);
  ASSERT_EQ(w->tensors().size(), raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    EXPECT_EQ(w->tensors()[i].name, raw[i].name) << "writer keeps the caller's order";
    EXPECT_TRUE(same_bits(w->read_all(w->tensors()[i]), raw[i].expected));
  }
}

TEST(WeightsSafetensors, WriterRefusesRepeatedNamesAndLeavesNoFile) {
  const std::vector<float> v(6, 1.0f);
  const std::string path = temp_dir() + "/dup.safetensors";
  try {
    write_safetensors(path, {{"a", {2, 3}, v.data()}, {"a", {6}, v.data()}});
    FAIL() << "repeated tensor name accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
    EXPECT_NE(std::string(e.what()).find("'a'"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(WeightsLlama2c, MatchesSafetensorsTensorByTensor) {
  const std::string bin = shared_data("stories260K/stories260K.bin");
  const std::string st = shared_data("stories260K/stories260K.safetensors");
  if (!require_file(bin) || !require_file(st)) return;
  auto a = WeightFile::open(bin);
  auto b = WeightFile::open(st);
  EXPECT_EQ(a->format(), "llama2c");
  EXPECT_EQ(b->format(), "safetensors");
  ASSERT_EQ(a->tensors().size(), b->tensors().size());
  for (size_t i = 0; i < a->tensors().size(); ++i) {
    const TensorInfo& ta = a->tensors()[i];
    const TensorInfo& tb = b->tensors()[i];
    SCOPED_TRACE(ta.name);
    EXPECT_EQ(ta.name, tb.name) << "same Hugging Face names in the same order";
    EXPECT_EQ(ta.shape, tb.shape);
    EXPECT_EQ(ta.dtype, DType::kF32);
    EXPECT_TRUE(same_bits(a->read_all(ta), b->read_all(tb)));
  }
  EXPECT_EQ(a->find("lm_head.weight"), nullptr) << "stories260K shares its classifier";
  for (const char* key : {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"}) {
    ASSERT_TRUE(a->metadata().count(key)) << key;
    EXPECT_EQ(a->metadata().at(key), b->metadata().at(key)) << key;
  }
  EXPECT_EQ(a->metadata().at("shared_classifier"), "true");
}

// An unshared classifier (vocab_size < 0) is the last array, after freq_cis.
TEST(WeightsLlama2c, HandBuiltCheckpointWithUnsharedClassifier) {
  std::mt19937_64 rng(fresh_seed());
  const int32_t kv_heads = 1 + int32_t(rng() % 3), heads = kv_heads * (1 + int32_t(rng() % 3));
  const int32_t head_size = 2 * (1 + int32_t(rng() % 4));
  const int32_t dim = heads * head_size, hidden = 1 + int32_t(rng() % 40), layers = 1 + int32_t(rng() % 4);
  const int32_t vocab = 1 + int32_t(rng() % 50), seq_len = 1 + int32_t(rng() % 20);
  const int32_t kv_dim = kv_heads * head_size;

  std::vector<uint8_t> bytes = llama2c_header(dim, hidden, layers, heads, kv_heads, -vocab, seq_len);
  std::map<std::string, std::vector<float>> expected;
  std::normal_distribution<float> nd(0.0f, 1.0f);
  auto emit = [&](const std::string& name, size_t count) {
    std::vector<float> v(count);
    for (float& x : v) x = nd(rng);
    for (float x : v) {
      uint32_t u;
      std::memcpy(&u, &x, 4);
      append_le(bytes, u, 4);
    }
    if (!name.empty()) expected[name] = v;
  };
  auto layer_name = [](int i, const char* s) { return "model.layers." + std::to_string(i) + "." + s + ".weight"; };
  emit("model.embed_tokens.weight", size_t(vocab) * dim);
  const std::pair<const char*, size_t> arrays[] = {
      {"input_layernorm", dim},           {"self_attn.q_proj", dim * dim}, {"self_attn.k_proj", kv_dim * dim},
      {"self_attn.v_proj", kv_dim * dim}, {"self_attn.o_proj", dim * dim}, {"post_attention_layernorm", dim},
      {"mlp.gate_proj", hidden * dim},    {"mlp.down_proj", dim * hidden}, {"mlp.up_proj", hidden * dim}};
  for (const auto& [name, count] : arrays)
    for (int i = 0; i < layers; ++i) emit(layer_name(i, name), count);
  emit("model.norm.weight", size_t(dim));
  emit("", size_t(seq_len * head_size / 2));  // freq_cis_real
  emit("", size_t(seq_len * head_size / 2));  // freq_cis_imag
  emit("lm_head.weight", size_t(vocab) * dim);
  const std::string path = temp_dir() + "/unshared.bin";
  write_file(path, bytes);

  auto w = WeightFile::open(path);
  EXPECT_EQ(w->format(), "llama2c");
  EXPECT_EQ(w->tensors().size(), expected.size()) << "freq_cis is not exposed";
  for (const auto& [name, values] : expected) {
    SCOPED_TRACE(name);
    const TensorInfo* t = w->find(name);
    ASSERT_NE(t, nullptr);
    EXPECT_TRUE(same_bits(w->read_all(*t), values));
  }
  EXPECT_EQ(w->find("model.layers.0.mlp.down_proj.weight")->shape,
            (std::vector<uint64_t>{uint64_t(dim), uint64_t(hidden)}));
  EXPECT_EQ(w->find("model.layers.0.self_attn.k_proj.weight")->shape,
            (std::vector<uint64_t>{uint64_t(kv_dim), uint64_t(dim)}));
  EXPECT_EQ(w->tensors().back().name, "lm_head.weight");
  EXPECT_EQ(w->metadata().at("shared_classifier"), "false");
  EXPECT_EQ(w->metadata().at("vocab_size"), std::to_string(vocab));
  EXPECT_EQ(w->metadata().at("n_kv_heads"), std::to_string(kv_heads));
}

// RNE to bfloat16, written out here rather than taken from fp16.h.
float round_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  return float_from_bits(u);
}

TEST(WeightsBf16, Stories260KIsRoundedF32) {
  const std::string f32 = shared_data("stories260K/stories260K.safetensors");
  const std::string bf16 = shared_data("stories260K/stories260K.bf16.safetensors");
  if (!require_file(f32) || !require_file(bf16)) return;
  auto a = WeightFile::open(f32);
  auto b = WeightFile::open(bf16);
  ASSERT_EQ(a->tensors().size(), b->tensors().size());
  for (const TensorInfo& tb : b->tensors()) {
    SCOPED_TRACE(tb.name);
    EXPECT_EQ(tb.dtype, DType::kBF16);
    const TensorInfo* ta = a->find(tb.name);
    ASSERT_NE(ta, nullptr);
    std::vector<float> want = a->read_all(*ta);
    for (float& x : want) x = round_to_bf16(x);
    EXPECT_TRUE(same_bits(b->read_all(tb), want));
  }
}

TEST(WeightsReadRows, ChecksOnlyTheRowsAsked) {
  std::mt19937_64 rng(fresh_seed());
  RawTensor t = random_tensor(rng, "m", "F32", {8, 4});
  const uint64_t bad_col = rng() % 4;
  std::memcpy(t.bytes.data() + (5 * 4 + bad_col) * 4, "\x00\x00\xc0\x7f", 4);  // quiet NaN at row 5
  const std::string path = temp_dir() + "/rows.safetensors";
  write_file(path, safetensors_bytes({t}));
  auto w = WeightFile::open(path);
  const TensorInfo& info = *w->find("m");
  std::vector<float> out(8 * 4);
  EXPECT_NO_THROW(w->read_rows(info, 0, 5, out.data()));
  EXPECT_NO_THROW(w->read_rows(info, 6, 2, out.data()));
  try {
    w->read_rows(info, 4, 2, out.data());
    FAIL() << "NaN in the requested rows not reported";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("row 5, col " + std::to_string(bad_col)), std::string::npos) << e.what();
  }
  EXPECT_THROW(w->read_rows(info, 7, 2, out.data()), Error) << "rows past the end";
}

TEST(WeightsOpen, MissingFileIsAnIoErrorNamingIt) {
  const std::string path = temp_dir() + "/no_such_file.safetensors";
  try {
    WeightFile::open(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lutc

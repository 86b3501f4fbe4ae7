// llama_config_from on files without a config.json: safetensors __metadata__
// built by hand (every key, its default, and each refusal naming the key)
// and the stories260K files against the hyper-parameters in their README.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "lutc/model/error.h"
#include "lutc/model/llama.h"
#include "lutc/model/weights.h"
#include "test_data.h"
#include "weight_file_builders.h"

namespace lutc {
namespace {

using namespace lutc::testing;
using Meta = std::map<std::string, std::string>;

// The stories260K hyper-parameters (tests/../shared/data/README.md).
Meta stories_meta() {
  return {{"dim", "64"},       {"hidden_dim", "172"}, {"n_layers", "5"}, {"n_heads", "8"},
          {"n_kv_heads", "4"}, {"vocab_size", "512"}, {"seq_len", "512"}};
}

// A one-tensor safetensors file carrying `meta`, opened; with an lm_head
// tensor when asked.
std::unique_ptr<WeightFile> file_with(const Meta& meta, bool lm_head = false) {
  static int n = 0;
  std::mt19937_64 rng{uint64_t(n)};
  std::vector<RawTensor> tensors = {random_tensor(rng, "model.norm.weight", "F32", {4})};
  if (lm_head) tensors.push_back(random_tensor(rng, "lm_head.weight", "F32", {2, 4}));
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const std::string path = temp_dir() + "/m" + std::to_string(n++) + ".safetensors";
  write_file(path, safetensors_bytes(safetensors_parts(tensors, order, meta)));
  return WeightFile::open(path);
}

// The message llama_config_from refuses `meta` with; "" when it accepts it.
std::string refusal(const Meta& meta) {
  auto f = file_with(meta);
  try {
    llama_config_from(*f);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find(f->path()), std::string::npos) << e.what();
    return e.what();
  }
  return "";
}

Meta with(Meta m, const std::string& key, const std::string& value) {
  m[key] = value;
  return m;
}

Meta without(Meta m, const std::string& key) {
  m.erase(key);
  return m;
}

// stories260K's published shape (its llama2.c header): what both the
// synthetic metadata here and the real files must give.
void expect_stories260k_shape(const LlamaConfig& c) {
  EXPECT_EQ(c.dim, 64u);
  EXPECT_EQ(c.hidden_dim, 172u);
  EXPECT_EQ(c.n_layers, 5u);
  EXPECT_EQ(c.n_heads, 8u);
  EXPECT_EQ(c.n_kv_heads, 4u);
  EXPECT_EQ(c.vocab_size, 512u);
  EXPECT_EQ(c.seq_len, 512u);
}

TEST(LlamaConfigMetadata, ReadsEveryKeyAndTheDefaults) {
  const LlamaConfig c = llama_config_from(*file_with(stories_meta()));
  expect_stories260k_shape(c);
  EXPECT_EQ(c.head_size(), 8u);
  EXPECT_TRUE(c.tied_classifier) << "no lm_head tensor: tied";
  EXPECT_EQ(c.rope_theta, 10000.f);
  EXPECT_EQ(c.rms_eps, 1e-5f);
  EXPECT_EQ(c.rope_layout, RopeLayout::kInterleaved);
  EXPECT_FALSE(c.moe());
  EXPECT_TRUE(c.model_type.empty());

  Meta m = stories_meta();
  m["rope_theta"] = "500000";
  m["rms_norm_eps"] = "1e-6";
  m["rope_layout"] = "half";
  const LlamaConfig d = llama_config_from(*file_with(m));
  EXPECT_EQ(d.rope_theta, 500000.f);
  EXPECT_EQ(d.rms_eps, 1e-6f);
  EXPECT_EQ(d.rope_layout, RopeLayout::kHalf);
  EXPECT_EQ(llama_config_from(*file_with(with(m, "rope_layout", "interleaved"))).rope_layout, RopeLayout::kInterleaved);
  // n_kv_heads defaults to n_heads (plain multi-head attention).
  EXPECT_EQ(llama_config_from(*file_with(without(stories_meta(), "n_kv_heads"))).n_kv_heads, 8u);
}

TEST(LlamaConfigMetadata, TiedClassifierFromEitherKeyOrTheLmHead) {
  EXPECT_FALSE(llama_config_from(*file_with(stories_meta(), true)).tied_classifier);
  EXPECT_TRUE(llama_config_from(*file_with(with(stories_meta(), "tied_embeddings", "true"), true)).tied_classifier);
  EXPECT_FALSE(llama_config_from(*file_with(with(stories_meta(), "tied_embeddings", "0"))).tied_classifier);
  EXPECT_TRUE(llama_config_from(*file_with(with(stories_meta(), "shared_classifier", "1"), true)).tied_classifier);
  EXPECT_FALSE(llama_config_from(*file_with(with(stories_meta(), "shared_classifier", "false"))).tied_classifier);
  // tied_embeddings wins over shared_classifier.
  Meta both = with(stories_meta(), "tied_embeddings", "false");
  both["shared_classifier"] = "true";
  EXPECT_FALSE(llama_config_from(*file_with(both)).tied_classifier);
  EXPECT_NE(
      refusal(with(stories_meta(), "tied_embeddings", "yes")).find("'tied_embeddings' = 'yes' is not true or false"),
      std::string::npos);
}

TEST(LlamaConfigMetadata, MissingKeysAreNamed) {
  for (const char* key : {"dim", "n_layers", "n_heads", "vocab_size", "seq_len", "hidden_dim"}) {
    SCOPED_TRACE(key);
    const std::string why = refusal(without(stories_meta(), key));
    EXPECT_NE(why.find(std::string("model hyper-parameter '") + key + "' is missing"), std::string::npos) << why;
  }
}

TEST(LlamaConfigMetadata, MalformedNumbersAreNamed) {
  for (const char* v : {"", "-1", "6x", "1.5", "+-1", "1073741825", "99999999999999999999"}) {
    SCOPED_TRACE(v);
    const std::string why = refusal(with(stories_meta(), "dim", v));
    EXPECT_NE(why.find(std::string("metadata 'dim' = '") + v + "' is not a non-negative integer"), std::string::npos)
        << why;
  }
  for (const char* v : {"0", "-3", "abc", "", "1e"}) {
    SCOPED_TRACE(v);
    const std::string why = refusal(with(stories_meta(), "rope_theta", v));
    EXPECT_NE(why.find("is not a positive number"), std::string::npos) << why;
  }
  EXPECT_NE(refusal(with(stories_meta(), "rms_norm_eps", "nan")).find("'rms_norm_eps'"), std::string::npos);
  EXPECT_NE(refusal(with(stories_meta(), "rope_layout", "rotate")).find("is not interleaved or half"),
            std::string::npos);
}

TEST(LlamaConfigMetadata, InconsistentSizesAreRefused) {
  EXPECT_NE(refusal(with(stories_meta(), "n_layers", "0")).find("a size is zero"), std::string::npos);
  EXPECT_NE(refusal(with(stories_meta(), "vocab_size", "0")).find("a size is zero"), std::string::npos);
  EXPECT_NE(refusal(with(stories_meta(), "dim", "60")).find("dim is not a multiple of n_heads"), std::string::npos);
  EXPECT_NE(refusal(with(stories_meta(), "n_kv_heads", "3")).find("n_heads is not a multiple of n_kv_heads"),
            std::string::npos);
  EXPECT_NE(refusal(with(stories_meta(), "n_kv_heads", "0")).find("n_heads is not a multiple of n_kv_heads"),
            std::string::npos);
  // 8 heads of 3: RoPE rotates pairs.
  EXPECT_NE(refusal(with(stories_meta(), "dim", "24")).find("head size is odd"), std::string::npos);
  // seq_len: 2^24 is the most; one more is a corrupt file.
  EXPECT_EQ(refusal(with(stories_meta(), "seq_len", std::to_string(1u << 24))), "");
  EXPECT_NE(refusal(with(stories_meta(), "seq_len", std::to_string((1u << 24) + 1))).find("(2^24) positions"),
            std::string::npos);
}

TEST(LlamaConfigMetadata, MixtureOfExperts) {
  Meta moe = without(stories_meta(), "hidden_dim");  // the MLP size is per expert
  moe["n_experts"] = "4";
  moe["n_experts_per_tok"] = "2";
  moe["moe_hidden_dim"] = "32";
  moe["shared_expert_hidden_dim"] = "48";
  const LlamaConfig c = llama_config_from(*file_with(moe));
  EXPECT_TRUE(c.moe());
  EXPECT_EQ(c.n_experts, 4u);
  EXPECT_EQ(c.n_experts_per_tok, 2u);
  EXPECT_EQ(c.moe_hidden_dim, 32u);
  EXPECT_EQ(c.shared_hidden_dim, 48u);
  EXPECT_EQ(c.hidden_dim, 0u);
  EXPECT_EQ(llama_config_from(*file_with(with(moe, "n_experts_per_tok", "4"))).n_experts_per_tok, 4u);
  for (const char* k : {"0", "5"})
    EXPECT_NE(refusal(with(moe, "n_experts_per_tok", k)).find("n_experts_per_tok must be in 1..n_experts"),
              std::string::npos)
        << k;
  EXPECT_NE(refusal(without(moe, "moe_hidden_dim")).find("'moe_hidden_dim' is missing"), std::string::npos);
  EXPECT_NE(refusal(without(moe, "n_experts_per_tok")).find("'n_experts_per_tok' is missing"), std::string::npos);
  EXPECT_EQ(llama_config_from(*file_with(without(moe, "shared_expert_hidden_dim"))).shared_hidden_dim, 0u);
}

TEST(LlamaConfigMetadata, Stories260KBothFormats) {
  for (const char* name : {"stories260K/stories260K.safetensors", "stories260K/stories260K.bin"}) {
    SCOPED_TRACE(name);
    const std::string path = shared_data(name);
    if (!require_file(path)) return;
    const LlamaConfig c = llama_config_from(*WeightFile::open(path));
    expect_stories260k_shape(c);
    EXPECT_TRUE(c.tied_classifier);
    EXPECT_EQ(c.rope_layout, RopeLayout::kInterleaved);
  }
}

}  // namespace
}  // namespace lutc

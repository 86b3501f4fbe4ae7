// Hugging Face folders (sharded safetensors + index + config.json) read as
// the same model as the llama2.c checkpoint they were converted from, the
// q/k RoPE row permutation, rope scaling, and the config-driven parts of the
// forward pass (biases, per-head q/k norm, head_dim, Mixtral names).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "hf_folder_builder.h"
#include "lutc/model/error.h"
#include "lutc/model/hf_layout.h"
#include "lutc/model/llama.h"
#include "lutc/model/weights.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace lutc::testing;

std::string bin_path() { return shared_data("stories260K/stories260K.bin"); }

std::vector<int32_t> random_tokens(std::mt19937_64& rng, size_t n, uint32_t vocab) {
  std::vector<int32_t> t{1};
  while (t.size() < n) t.push_back(int32_t(3 + rng() % (vocab - 3)));
  return t;
}

HfFolder stories_folder(int shards) {
  auto bin = WeightFile::open(bin_path());
  return write_hf_folder(temp_dir() + "/hf" + std::to_string(shards), *bin, llama_config_from(*bin), shards);
}

void expect_close_logits(const RowMatrix& a, const RowMatrix& b) {
  ASSERT_EQ(a.rows(), b.rows());
  ASSERT_EQ(a.cols(), b.cols());
  const float scale = a.cwiseAbs().maxCoeff();
  EXPECT_LE((a - b).cwiseAbs().maxCoeff(), 1e-5f * scale);
}

TEST(HfFolder, ShardedFolderGivesTheLogitsOfTheLlama2cFile) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const HfFolder f = stories_folder(2);
  const auto ref = LlamaModel::open(bin_path());
  const auto tokens = random_tokens(rng, 2 + rng() % 40, 512);
  const RowMatrix want = ref->forward_all(tokens);
  for (const std::string& input : {f.dir, f.index}) {
    SCOPED_TRACE(input);
    auto w = WeightFile::open(input);
    EXPECT_EQ(w->files().size(), 2u);
    EXPECT_EQ(w->config_path(), f.config);
    const LlamaConfig c = llama_config_from(*w);
    EXPECT_EQ(c.rope_layout, RopeLayout::kHalf);
    EXPECT_EQ(c.model_type, "llama");
    EXPECT_EQ(c.dim, ref->config().dim);
    EXPECT_EQ(c.n_kv_heads, ref->config().n_kv_heads);
    EXPECT_EQ(c.rms_eps, ref->config().rms_eps);
    EXPECT_TRUE(c.tied_classifier);
    const auto m = LlamaModel::open(input);
    expect_close_logits(want, m->forward_all(tokens));
    // Without the permutation the same folder must be clearly wrong: the
    // check above can fail.
    LlamaConfig wrong = c;
    wrong.rope_layout = RopeLayout::kInterleaved;
    const RowMatrix bad = LlamaModel(wrong, m->tensors()).forward_all(tokens);
    if (tokens.size() > 2) {
      EXPECT_GT((bad - want).cwiseAbs().maxCoeff(), 1e-3f * want.cwiseAbs().maxCoeff());
    }
  }
}

TEST(HfFolder, EveryTensorReadsBackBitForBit) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const int shards = 1 + int(rng() % 4);
  SCOPED_TRACE("shards " + std::to_string(shards));
  const HfFolder f = stories_folder(shards);
  auto bin = WeightFile::open(bin_path());
  const LlamaConfig cfg = llama_config_from(*bin);
  auto w = WeightFile::open(f.dir);
  ASSERT_EQ(w->tensors().size(), bin->tensors().size());
  size_t permuted = 0;
  for (const TensorInfo& t : bin->tensors()) {
    const TensorInfo* h = w->find(t.name);
    ASSERT_NE(h, nullptr) << t.name;
    EXPECT_EQ(w->file_of(*h), f.dir + "/" + f.weight_map.at(t.name));
    const std::vector<float> got = w->read_all(*h), orig = bin->read_all(t);
    ASSERT_EQ(got.size(), orig.size());
    const std::vector<float> want = hf_tensor(*bin, cfg, t.name);
    EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * 4), 0) << t.name;
    if (t.name.find("q_proj") != std::string::npos || t.name.find("k_proj") != std::string::npos) {
      std::vector<float> back(got.size());
      rope_rows_half_to_interleaved(got.data(), back.data(), h->rows(), h->cols(), cfg.head_size());
      EXPECT_EQ(std::memcmp(back.data(), orig.data(), got.size() * 4), 0) << t.name;
      EXPECT_NE(got, orig) << t.name;
      ++permuted;
    }
  }
  EXPECT_EQ(permuted, 2u * cfg.n_layers);
}

TEST(HfLayout, PermutationRoundTripsAndMatchesItsDefinition) {
  std::mt19937_64 rng(fresh_seed());
  std::normal_distribution<float> g;
  for (int trial = 0; trial < 20; ++trial) {
    const uint32_t hs = 2 * (1 + uint32_t(rng() % 16)), heads = 1 + uint32_t(rng() % 6);
    const uint64_t rows = uint64_t(hs) * heads, cols = 1 + rng() % 9;
    std::vector<float> a(rows * cols), half(a.size()), back(a.size());
    for (float& v : a) v = g(rng);
    rope_rows_interleaved_to_half(a.data(), half.data(), rows, cols, hs);
    rope_rows_half_to_interleaved(half.data(), back.data(), rows, cols, hs);
    EXPECT_EQ(back, a);
    // half[head, j * hs/2 + i] = interleaved[head, 2i + j]
    for (uint32_t h = 0; h < heads; ++h)
      for (uint32_t i = 0; i < hs / 2; ++i)
        for (uint32_t j = 0; j < 2; ++j)
          for (uint64_t c = 0; c < cols; ++c)
            ASSERT_EQ(half[(h * hs + j * hs / 2 + i) * cols + c], a[(h * hs + 2 * i + j) * cols + c]);
  }
  // By hand: two heads of 4 rows, one column holding the row index.
  const std::vector<float> rows = {0, 1, 2, 3, 4, 5, 6, 7};
  std::vector<float> out(8);
  rope_rows_interleaved_to_half(rows.data(), out.data(), 8, 1, 4);
  EXPECT_EQ(out, (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
  EXPECT_THROW(rope_rows_interleaved_to_half(rows.data(), out.data(), 8, 1, 3), Error);
}

TEST(HfRope, ScalingRulesFollowTheirFormulas) {
  std::mt19937_64 rng(fresh_seed());
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 50; ++trial) {
    LlamaConfig c;
    c.n_heads = 1 + uint32_t(rng() % 8);
    c.head_dim = 2 * (4 + uint32_t(rng() % 64));
    c.dim = c.head_dim * c.n_heads;
    c.rope_theta = float(std::pow(10.0, 3 + 3 * u(rng)));
    const double factor = 1 + 31 * u(rng), lo = 0.5 + u(rng), hi = lo + 0.5 + 4 * u(rng);
    const uint32_t old = 256u << (rng() % 8);
    const uint32_t kind = trial % 3;
    c.rope_scaling.type = kind == 0 ? RopeScaling::kNone : kind == 1 ? RopeScaling::kLinear : RopeScaling::kLlama3;
    c.rope_scaling.factor = float(factor);
    c.rope_scaling.low_freq_factor = float(lo);
    c.rope_scaling.high_freq_factor = float(hi);
    c.rope_scaling.original_max_pos = old;
    const std::vector<float> got = rope_inv_freq(c);
    ASSERT_EQ(got.size(), c.head_dim / 2);
    size_t kept = 0, scaled = 0, blended = 0;
    for (uint32_t i = 0; i < c.head_dim / 2; ++i) {
      const double base = std::pow(double(c.rope_theta), -2.0 * i / c.head_dim);
      double want = base;
      if (kind == 1) want = base / double(c.rope_scaling.factor);
      if (kind == 2) {
        // transformers' _compute_llama3_parameters, written out per element.
        const double f = c.rope_scaling.factor, l = c.rope_scaling.low_freq_factor, h = c.rope_scaling.high_freq_factor;
        const double wavelen = 2 * M_PI / base;
        const double llama = wavelen > old / l ? base / f : base;
        const double smooth = (old / wavelen - l) / (h - l);
        const bool medium = !(wavelen < old / h) && !(wavelen > old / l);
        want = medium ? (1 - smooth) * llama / f + smooth * llama : llama;
        (medium ? blended : llama == base ? kept : scaled)++;
      }
      EXPECT_NEAR(got[i], want, 1e-6 * want) << "trial " << trial << " i " << i;
    }
    if (kind == 2) {
      EXPECT_GT(kept + scaled + blended, 0u);
    }
  }
}

// A random small model: weights and norms drawn from N(0, 0.5^2).
struct Toy {
  LlamaConfig cfg;
  TensorMap t;
};

RowMatrix random_matrix(std::mt19937_64& rng, Eigen::Index r, Eigen::Index c, float sd = 0.5f) {
  std::normal_distribution<float> g(0.f, sd);
  RowMatrix m(r, c);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = g(rng);
  return m;
}

Toy toy(std::mt19937_64& rng, uint32_t head_dim = 0, uint32_t experts = 0, bool mixtral = false) {
  Toy m;
  LlamaConfig& c = m.cfg;
  c.dim = 16, c.n_heads = 4, c.n_kv_heads = 2, c.hidden_dim = 24, c.n_layers = 2, c.vocab_size = 32, c.seq_len = 16;
  c.head_dim = head_dim;
  c.rope_layout = RopeLayout::kHalf;
  c.n_experts = experts, c.n_experts_per_tok = experts ? 2 : 0, c.moe_hidden_dim = experts ? 12 : 0;
  c.moe_names = mixtral ? MoeNames::kMixtral : MoeNames::kQwen;
  const Eigen::Index d = c.dim, q = c.q_dim(), kv = c.kv_dim(), h = c.hidden_dim;
  m.t["model.embed_tokens.weight"] = random_matrix(rng, c.vocab_size, d);
  m.t["model.norm.weight"] = random_matrix(rng, d, 1);
  for (uint32_t i = 0; i < c.n_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    m.t[p + "input_layernorm.weight"] = random_matrix(rng, d, 1);
    m.t[p + "post_attention_layernorm.weight"] = random_matrix(rng, d, 1);
    m.t[p + "self_attn.q_proj.weight"] = random_matrix(rng, q, d);
    m.t[p + "self_attn.k_proj.weight"] = random_matrix(rng, kv, d);
    m.t[p + "self_attn.v_proj.weight"] = random_matrix(rng, kv, d);
    m.t[p + "self_attn.o_proj.weight"] = random_matrix(rng, d, q);
    if (!experts) {
      m.t[p + "mlp.gate_proj.weight"] = random_matrix(rng, h, d);
      m.t[p + "mlp.up_proj.weight"] = random_matrix(rng, h, d);
      m.t[p + "mlp.down_proj.weight"] = random_matrix(rng, d, h);
      continue;
    }
    const std::string moe = p + (mixtral ? "block_sparse_moe." : "mlp.");
    m.t[moe + "gate.weight"] = random_matrix(rng, experts, d);
    for (uint32_t e = 0; e < experts; ++e) {
      const std::string x = moe + "experts." + std::to_string(e) + ".";
      m.t[x + (mixtral ? "w1.weight" : "gate_proj.weight")] = random_matrix(rng, c.moe_hidden_dim, d);
      m.t[x + (mixtral ? "w3.weight" : "up_proj.weight")] = random_matrix(rng, c.moe_hidden_dim, d);
      m.t[x + (mixtral ? "w2.weight" : "down_proj.weight")] = random_matrix(rng, d, c.moe_hidden_dim);
    }
  }
  return m;
}

void add_biases(Toy& m, std::mt19937_64& rng, float sd) {
  m.cfg.qkv_bias = true;
  for (uint32_t i = 0; i < m.cfg.n_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".self_attn.";
    m.t[p + "q_proj.bias"] = random_matrix(rng, m.cfg.q_dim(), 1, sd);
    m.t[p + "k_proj.bias"] = random_matrix(rng, m.cfg.kv_dim(), 1, sd);
    m.t[p + "v_proj.bias"] = random_matrix(rng, m.cfg.kv_dim(), 1, sd);
  }
}

TEST(HfForward, Qwen2ZeroBiasesChangeNothingAndRealOnesDo) {
  std::mt19937_64 rng(fresh_seed());
  const Toy plain = toy(rng);
  const auto tokens = random_tokens(rng, 6 + rng() % 8, plain.cfg.vocab_size);
  const RowMatrix want = LlamaModel(plain.cfg, plain.t).forward_all(tokens);
  Toy zero = plain, biased = plain;
  add_biases(zero, rng, 0.f);
  add_biases(biased, rng, 0.5f);
  EXPECT_EQ(LlamaModel(zero.cfg, zero.t).forward_all(tokens), want);
  const LlamaModel b(biased.cfg, biased.t);
  const RowMatrix got = b.forward_all(tokens);
  EXPECT_GT((got - want).cwiseAbs().maxCoeff(), 1e-3f * want.cwiseAbs().maxCoeff());
  KvCache cache = b.new_cache();
  for (size_t t = 0; t < tokens.size(); ++t)
    EXPECT_LT((b.step(tokens[t], cache).transpose() - got.row(long(t))).cwiseAbs().maxCoeff(),
              1e-4f * got.cwiseAbs().maxCoeff());
  Toy missing = biased;
  missing.t.erase("model.layers.1.self_attn.v_proj.bias");
  EXPECT_THROW(LlamaModel(missing.cfg, missing.t), Error);
}

TEST(HfForward, Qwen3HeadDimAndQkNormRunAndStepAgrees) {
  std::mt19937_64 rng(fresh_seed());
  Toy m = toy(rng, 6);  // head_dim 6: q_dim 24 != dim 16
  m.cfg.qk_norm = true;
  for (uint32_t i = 0; i < m.cfg.n_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".self_attn.";
    m.t[p + "q_norm.weight"] = random_matrix(rng, 6, 1);
    m.t[p + "k_norm.weight"] = random_matrix(rng, 6, 1);
  }
  const auto tokens = random_tokens(rng, 5 + rng() % 8, m.cfg.vocab_size);
  const LlamaModel model(m.cfg, m.t);
  const RowMatrix full = model.forward_all(tokens);
  KvCache cache = model.new_cache();
  for (size_t t = 0; t < tokens.size(); ++t)
    EXPECT_LT((model.step(tokens[t], cache).transpose() - full.row(long(t))).cwiseAbs().maxCoeff(),
              1e-4f * full.cwiseAbs().maxCoeff());
  // The per-head norm makes each head's scale irrelevant: scaling q and k rows changes nothing.
  Toy scaled = m;
  for (uint32_t i = 0; i < m.cfg.n_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".self_attn.";
    scaled.t[p + "q_proj.weight"] *= 4.f;
    scaled.t[p + "k_proj.weight"] *= 0.25f;
  }
  const RowMatrix s = LlamaModel(scaled.cfg, scaled.t).forward_all(tokens);
  EXPECT_LT((s - full).cwiseAbs().maxCoeff(), 1e-3f * full.cwiseAbs().maxCoeff());
}

TEST(HfForward, MixtralNamesRunTheSameExperts) {
  std::mt19937_64 rng(fresh_seed());
  uint64_t seed = rng();
  std::mt19937_64 r1(seed), r2(seed);
  const Toy qwen = toy(r1, 0, 4, false), mix = toy(r2, 0, 4, true);
  const auto tokens = random_tokens(rng, 4 + rng() % 8, qwen.cfg.vocab_size);
  const RowMatrix a = LlamaModel(qwen.cfg, qwen.t).forward_all(tokens);
  EXPECT_EQ(LlamaModel(mix.cfg, mix.t).forward_all(tokens), a);
  // Renormalizing the top-k weights matters with k < n, and not with k = n.
  Toy norm = mix;
  norm.cfg.norm_topk_prob = true;
  EXPECT_GT((LlamaModel(norm.cfg, norm.t).forward_all(tokens) - a).cwiseAbs().maxCoeff(), 1e-4f);
  Toy all = mix, all_norm = mix;
  all.cfg.n_experts_per_tok = all_norm.cfg.n_experts_per_tok = 4;
  all_norm.cfg.norm_topk_prob = true;
  const RowMatrix x = LlamaModel(all.cfg, all.t).forward_all(tokens);
  EXPECT_LT((LlamaModel(all_norm.cfg, all_norm.t).forward_all(tokens) - x).cwiseAbs().maxCoeff(),
            1e-5f * x.cwiseAbs().maxCoeff());
}

}  // namespace
}  // namespace lutc

// Activation statistics from the forward pass (lutc act-stats): the observer
// sees exactly what each projection multiplies, it does not change the logits,
// and the file it writes is the one `quantize --act-stats` reads.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <set>

#include "lutc/model/error.h"
#include "lutc/model/hprocess.h"
#include "lutc/model/llama.h"
#include "lutc/model/llama_act_stats.h"
#include "lutc/model/sop.h"
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

std::string layer0(const char* rest) { return std::string("model.layers.0.") + rest; }

// Expects E[x^2] of `weight` (one observed position) to equal want_k^2.
void expect_one_position(const ActivationStatsCollector& c, const std::string& weight,
                         const std::vector<double>& want) {
  SCOPED_TRACE(weight);
  const auto* l = c.find(weight);
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->positions, 1u);
  ASSERT_EQ(l->sum_sq.size(), want.size());
  const std::vector<double> got = c.mean_sq(*l);
  double scale = 0;
  for (double w : want) scale = std::max(scale, w * w);
  for (size_t k = 0; k < want.size(); ++k) EXPECT_NEAR(got[k], want[k] * want[k], 1e-5 * scale) << "column " << k;
}

// Layer 0 on one token, recomputed in double straight from the weights: with
// a single position attention returns v itself (one softmax weight of 1), so
// every projection input of the layer is a closed-form function of the token.
TEST(ActStats, ObserverSeesExactlyTheInputsOfLayerZerosProjections) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const auto m = LlamaModel::open(bin_path());
  const LlamaConfig& c = m->config();
  const TensorMap& t = m->tensors();
  const int32_t token = int32_t(rng() % c.vocab_size);
  const bool use_step = rng() % 2;
  SCOPED_TRACE(std::string("token ") + std::to_string(token) + (use_step ? ", step()" : ", forward_all()"));
  ActivationStatsCollector obs;
  if (use_step) {
    KvCache cache = m->new_cache();
    m->step(token, cache, &obs);
  } else {
    m->forward_all({token}, &obs);
  }

  const uint32_t d = c.dim, kv = c.kv_dim(), hs = c.head_size(), group = c.n_heads / c.n_kv_heads;
  auto rmsnorm = [&](const std::vector<double>& x, const RowMatrix& w) {
    double ms = 0;
    for (double v : x) ms += v * v;
    const double inv = 1 / std::sqrt(ms / double(x.size()) + double(c.rms_eps));
    std::vector<double> y(x.size());
    for (size_t k = 0; k < x.size(); ++k) y[k] = x[k] * double(w(Eigen::Index(k), 0)) * inv;
    return y;
  };
  auto matvec = [](const RowMatrix& w, const std::vector<double>& x) {
    std::vector<double> y(size_t(w.rows()), 0.0);
    for (Eigen::Index r = 0; r < w.rows(); ++r)
      for (Eigen::Index k = 0; k < w.cols(); ++k) y[size_t(r)] += double(w(r, k)) * x[size_t(k)];
    return y;
  };
  std::vector<double> x(d);
  for (uint32_t k = 0; k < d; ++k) x[k] = t.at("model.embed_tokens.weight")(token, k);
  const std::vector<double> xb = rmsnorm(x, t.at(layer0("input_layernorm.weight")));
  for (const char* p : {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight"})
    expect_one_position(obs, layer0(p), xb);
  // o_proj's input: each query head h reads kv head h / group's value.
  const std::vector<double> v = matvec(t.at(layer0("self_attn.v_proj.weight")), xb);
  ASSERT_EQ(v.size(), kv);
  std::vector<double> att(d);
  for (uint32_t h = 0; h < c.n_heads; ++h)
    for (uint32_t i = 0; i < hs; ++i) att[h * hs + i] = v[(h / group) * hs + i];
  expect_one_position(obs, layer0("self_attn.o_proj.weight"), att);
  const std::vector<double> o = matvec(t.at(layer0("self_attn.o_proj.weight")), att);
  for (uint32_t k = 0; k < d; ++k) x[k] += o[k];
  const std::vector<double> xn = rmsnorm(x, t.at(layer0("post_attention_layernorm.weight")));
  expect_one_position(obs, layer0("mlp.gate_proj.weight"), xn);
  expect_one_position(obs, layer0("mlp.up_proj.weight"), xn);
  const std::vector<double> g = matvec(t.at(layer0("mlp.gate_proj.weight")), xn);
  const std::vector<double> u = matvec(t.at(layer0("mlp.up_proj.weight")), xn);
  std::vector<double> hidden(g.size());
  for (size_t k = 0; k < g.size(); ++k) hidden[k] = g[k] / (1 + std::exp(-g[k])) * u[k];
  expect_one_position(obs, layer0("mlp.down_proj.weight"), hidden);
}

TEST(ActStats, EveryProjectionIsObservedOncePerPositionWithItsWidth) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const auto m = LlamaModel::open(bin_path());
  const auto a = random_tokens(rng, 2 + rng() % 60, 512), b = random_tokens(rng, 2 + rng() % 60, 512);
  ActivationStatsCollector obs;
  collect_activation_stats(*m, {a, b}, obs);
  std::set<std::string> want;
  for (const auto& [name, w] : m->tensors())
    if (w.cols() > 1) want.insert(name);  // tied: the embedding is the classifier
  std::set<std::string> got;
  for (const auto& l : obs.layers()) {
    SCOPED_TRACE(l.name);
    got.insert(l.name);
    EXPECT_EQ(l.positions, a.size() + b.size());
    EXPECT_EQ(int64_t(l.sum_sq.size()), m->tensors().at(l.name).cols());
    for (double s : l.sum_sq) EXPECT_TRUE(std::isfinite(s) && s > 0) << s;
  }
  EXPECT_EQ(got, want);
  // q/k/v and gate/up share their input.
  EXPECT_EQ(obs.find(layer0("self_attn.q_proj.weight"))->sum_sq, obs.find(layer0("self_attn.v_proj.weight"))->sum_sq);
  EXPECT_EQ(obs.find(layer0("mlp.gate_proj.weight"))->sum_sq, obs.find(layer0("mlp.up_proj.weight"))->sum_sq);
}

TEST(ActStats, ObserverChangesNoLogitAndBothPathsSeeTheSameInputs) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const auto m = LlamaModel::open(bin_path());
  const auto tokens = random_tokens(rng, 2 + rng() % 50, 512);
  ActivationStatsCollector all, steps;
  const RowMatrix plain = m->forward_all(tokens);
  EXPECT_EQ(m->forward_all(tokens, &all), plain) << "an observer must not change the arithmetic";
  KvCache c1 = m->new_cache(), c2 = m->new_cache();
  for (int32_t tok : tokens) {
    const Eigen::VectorXf p = m->step(tok, c1);
    EXPECT_EQ(m->step(tok, c2, &steps), p);
  }
  ASSERT_EQ(all.layers().size(), steps.layers().size());
  for (size_t i = 0; i < all.layers().size(); ++i) {
    const auto& x = all.layers()[i];
    const auto* y = steps.find(x.name);
    ASSERT_NE(y, nullptr) << x.name;
    EXPECT_EQ(x.positions, y->positions);
    // The batched pass and the token-by-token pass round differently (GEMM
    // against GEMV, five layers deep), so a column agrees to float noise
    // relative to itself and to the layer's typical column: 1e-4 of the
    // mean column is far below any real difference in what was observed.
    double mean = 0;
    for (double v : x.sum_sq) mean += v / double(x.sum_sq.size());
    for (size_t k = 0; k < x.sum_sq.size(); ++k)
      EXPECT_NEAR(x.sum_sq[k], y->sum_sq[k], 1e-3 * x.sum_sq[k] + 1e-4 * mean) << x.name << " column " << k;
  }
}

TEST(ActStats, MoeRouterExpertsAndSharedExpertSeeTheirRows) {
  MoeSynthSpec s;
  s.seed = fresh_seed();
  s.n_layers = 1;
  const std::string path = temp_dir() + "/moe.safetensors";
  write_moe_synth(path, s);
  const auto m = LlamaModel::open(path);
  std::mt19937_64 rng(s.seed);
  const auto tokens = random_tokens(rng, 10 + rng() % 40, s.vocab);
  ActivationStatsCollector obs;
  m->forward_all(tokens, &obs);
  const uint64_t n = tokens.size();
  uint64_t routed = 0;
  for (const auto& l : obs.layers()) {
    SCOPED_TRACE(l.name);
    EXPECT_EQ(int64_t(l.sum_sq.size()), m->tensors().at(l.name).cols());
    if (l.name.find(".mlp.experts.") != std::string::npos) {
      EXPECT_LE(l.positions, n);
      if (l.name.find("gate_proj") != std::string::npos) {
        routed += l.positions;
        const std::string up = l.name.substr(0, l.name.find("gate_proj")) + "up_proj.weight";
        EXPECT_EQ(obs.find(up)->sum_sq, l.sum_sq);
      }
    } else {
      EXPECT_EQ(l.positions, n);  // attention, router, shared expert and its gate, classifier
    }
  }
  EXPECT_EQ(routed, n * s.top_k) << "each position visits top_k experts";
  for (const char* name : {"mlp.gate.weight", "mlp.shared_expert_gate.weight", "mlp.shared_expert.down_proj.weight"})
    EXPECT_NE(obs.find(layer0(name)), nullptr) << name;
}

TEST(ActStats, WrittenFileIsWhatQuantizeReads) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const auto m = LlamaModel::open(bin_path());
  ActivationStatsCollector obs;
  collect_activation_stats(*m, {random_tokens(rng, 2 + rng() % 30, 512)}, obs);
  const std::string path = temp_dir() + "/s.safetensors";
  EXPECT_EQ(obs.write(path, {{"positions", "7"}}), obs.layers().size());
  auto f = WeightFile::open(path);
  EXPECT_EQ(f->metadata().at("positions"), "7");
  auto stats = ActStats::open(path);
  for (const auto& l : obs.layers()) {
    SCOPED_TRACE(l.name);
    EXPECT_EQ(f->find(l.name)->shape, std::vector<uint64_t>{l.sum_sq.size()});
    const auto v = stats->find(l.name, uint32_t(l.sum_sq.size()));
    ASSERT_NE(v, nullptr);
    const std::vector<double> want = obs.mean_sq(l);
    for (size_t k = 0; k < want.size(); ++k) EXPECT_EQ((*v)[k], double(float(want[k])));
  }
  EXPECT_THROW(ActivationStatsCollector().write(temp_dir() + "/empty.safetensors", {}), Error);
}

TEST(ActStats, SampledGenerationIsSeededAndStaysInTheVocabulary) {
  if (!require_file(bin_path())) return;
  const uint64_t seed = fresh_seed();
  const auto m = LlamaModel::open(bin_path());
  const auto a = sample_generate(*m, {1, 42}, 40, seed), b = sample_generate(*m, {1, 42}, 40, seed);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 42u);
  for (int32_t t : a) EXPECT_TRUE(t >= 0 && t < 512);
  // Different seeds give different text (40 draws from a trained model's
  // distributions; identical outcomes for 8 seeds would mean the seed is ignored).
  std::set<std::vector<int32_t>> texts;
  for (uint64_t s = 0; s < 8; ++s) texts.insert(sample_generate(*m, {1, 42}, 40, seed + 1 + s));
  EXPECT_GT(texts.size(), 1u);
  // Never past seq_len.
  EXPECT_EQ(sample_generate(*m, {1}, 100000, seed).size(), m->config().seq_len);
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

TEST(ActStats, TokenFileParsesLinesAndNamesEveryBadToken) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = temp_dir();
  std::vector<std::vector<int32_t>> want;
  std::string text;
  for (int line = 0; line < 5; ++line) {
    std::vector<int32_t> seq(1 + rng() % 20);
    for (auto& t : seq) {
      t = int32_t(rng() % 512);
      text += std::to_string(t) + (rng() % 3 ? " " : "\t  ");
    }
    want.push_back(seq);
    text += rng() % 2 ? "\n\n" : "\r\n";
  }
  write_text(dir + "/ok.txt", text);
  EXPECT_EQ(read_token_file(dir + "/ok.txt", 512, 20), want);

  struct Case {
    std::string text, must_name;
  };
  const std::vector<Case> bad = {
      {"1 2 3\n4 512 6\n", "line 2, token '512'"},
      {"1 2 3\n\n7 -1\n", "line 3, token '-1'"},
      {"1 2 x3\n", "line 1, token 'x3'"},
      {"1 2 3.5\n", "token '3.5'"},
      {"1 99999999999999999999\n", "token '99999999999999999999'"},
      {"1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\n", "line 1: 21 tokens"},
      {"", "no token"},
      {"\n \n", "no token"},
  };
  for (const Case& c : bad) {
    SCOPED_TRACE(c.text);
    write_text(dir + "/bad.txt", c.text);
    try {
      read_token_file(dir + "/bad.txt", 512, 20);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput);
      EXPECT_NE(std::string(e.what()).find(c.must_name), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("bad.txt"), std::string::npos) << e.what();
    }
  }
  try {
    read_token_file(dir + "/missing.txt", 512, 20);
    ADD_FAILURE() << "accepted a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo);
  }
}

}  // namespace
}  // namespace lutc

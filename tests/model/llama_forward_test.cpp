// The reference forward pass on the real stories260K weights.
#include <gtest/gtest.h>

#include <random>

#include "lutc/model/error.h"
#include "lutc/model/llama.h"
#include "lutc/model/lm_metrics.h"
#include "lutc/model/weights.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace lutc::testing;

std::string bin_path() { return shared_data("stories260K/stories260K.bin"); }
std::string st_path() { return shared_data("stories260K/stories260K.safetensors"); }

std::vector<int32_t> random_tokens(std::mt19937_64& rng, size_t n, uint32_t vocab) {
  std::vector<int32_t> t{1};
  while (t.size() < n) t.push_back(int32_t(3 + rng() % (vocab - 3)));
  return t;
}

TEST(LlamaForward, BinAndSafetensorsGiveIdenticalLogits) {
  if (!require_file(bin_path()) || !require_file(st_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const auto a = LlamaModel::open(bin_path());
  const auto b = LlamaModel::open(st_path());
  const auto tokens = random_tokens(rng, 2 + rng() % 40, 512);
  const RowMatrix la = a->forward_all(tokens), lb = b->forward_all(tokens);
  ASSERT_EQ(la.rows(), lb.rows());
  EXPECT_EQ(la, lb) << "same weights, same code: the logits must be bit-identical";
}

TEST(LlamaForward, KvCacheStepsEqualFullRecompute) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const auto m = LlamaModel::open(bin_path());
  const auto tokens = random_tokens(rng, 20 + rng() % 60, 512);
  const RowMatrix full = m->forward_all(tokens);
  KvCache cache = m->new_cache();
  for (size_t t = 0; t < tokens.size(); ++t) {
    const Eigen::VectorXf step = m->step(tokens[t], cache);
    const float scale = full.row(long(t)).cwiseAbs().maxCoeff();
    EXPECT_LT((step.transpose() - full.row(long(t))).cwiseAbs().maxCoeff(), 1e-4f * scale) << "position " << t;
  }
  EXPECT_EQ(cache.length, tokens.size());
}

TEST(LlamaForward, GreedyGenerationIsDeterministicAndSharpOnItsOwnText) {
  if (!require_file(bin_path())) return;
  const auto m = LlamaModel::open(bin_path());
  const auto a = greedy_generate(*m, {1}, 48), b = greedy_generate(*m, {1}, 48);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 49u);
  const LmReference ref = make_reference(*m, {4, 48});
  // A trained model is confident on what it wrote; uniform over 512 tokens would be ppl 512.
  EXPECT_LT(ref.self_ppl, 4.0);
  EXPECT_GT(ref.self_top_prob, 0.4);
}

TEST(LlamaForward, RopeConventionOfTheCheckpointFitsBest) {
  // The model was trained with llama2.c's interleaved pairs and theta = 10000
  // (the freq_cis table in the .bin matches that to 2e-6); rotating the other
  // pairs, or with another theta, must make it clearly worse on real text.
  if (!require_file(bin_path())) return;
  auto file = WeightFile::open(bin_path());
  const LlamaConfig cfg = llama_config_from(*file);
  const TensorMap t = load_tensors(*file);
  const LmReference ref = make_reference(LlamaModel(cfg, t), {4, 48});
  LlamaConfig half = cfg, theta = cfg;
  half.rope_layout = RopeLayout::kHalf;
  theta.rope_theta = 500000.f;
  for (const LlamaConfig& c : {half, theta}) {
    const LmMetrics m = evaluate_lm(LlamaModel(c, t), ref);
    EXPECT_GT(m.ppl, 1.5 * ref.self_ppl);
  }
}

TEST(LlamaForward, RejectsTokensOutsideTheVocabularyAndMissingTensors) {
  if (!require_file(bin_path())) return;
  const auto m = LlamaModel::open(bin_path());
  KvCache c = m->new_cache();
  EXPECT_THROW(m->step(512, c), Error);
  EXPECT_THROW(m->forward_all({1, -1}), Error);
  TensorMap t = m->tensors();
  t.erase("model.layers.3.mlp.up_proj.weight");
  try {
    LlamaModel broken(m->config(), t);
    FAIL() << "a missing tensor must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.layers.3.mlp.up_proj.weight"), std::string::npos);
  }
}

}  // namespace
}  // namespace lutc

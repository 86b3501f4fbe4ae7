// The forward pass with quantized weights: near-lossless floors keep the
// greedy text, loose ones lose it.
#include <gtest/gtest.h>

#include <random>

#include "lutc/model/error.h"
#include "lutc/model/llama.h"
#include "lutc/model/lm_metrics.h"
#include "lutc/model/quantize.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace lutc::testing;

struct Fixture {
  LlamaConfig cfg;
  TensorMap fp32;
  std::unique_ptr<LlamaModel> model;
  LmReference ref;
};

const Fixture& stories() {
  static Fixture f = [] {
    Fixture x;
    auto file = WeightFile::open(shared_data("stories260K/stories260K.bin"));
    x.cfg = llama_config_from(*file);
    x.fp32 = load_tensors(*file);
    x.model = std::make_unique<LlamaModel>(x.cfg, x.fp32);
    x.ref = make_reference(*x.model, {6, 32});
    return x;
  }();
  return f;
}

XfpFile quantize_all(const TensorMap& t, const XfpOptions& o) {
  XfpFile f;
  const RoleRules rules;
  for (const auto& [name, w] : t) {
    if (w.cols() == 1) continue;
    f.layers.push_back(quantize_xfp(name, rules.classify(name), w.data(), uint32_t(w.rows()), uint32_t(w.cols()), o));
  }
  return f;
}

LmMetrics metrics_of(const XfpFile& q) {
  const Fixture& f = stories();
  TensorMap t = f.fp32;
  EXPECT_EQ(apply_xfp(t, q), q.layers.size());
  return evaluate_lm(LlamaModel(f.cfg, std::move(t)), f.ref);
}

TEST(LlamaQuantized, Fp32AgainstItselfIsExact) {
  if (!require_file(shared_data("stories260K/stories260K.bin"))) return;
  const LmMetrics m = evaluate_lm(*stories().model, stories().ref);
  EXPECT_EQ(m.kl, 0.0);
  EXPECT_EQ(m.top1, 1.0);
  EXPECT_EQ(m.greedy_match_min, 32u);
}

TEST(LlamaQuantized, NearLosslessFloorKeepsTheGreedyTokens) {
  if (!require_file(shared_data("stories260K/stories260K.bin"))) return;
  XfpOptions o;
  o.auto_mode = true;
  o.floor_strict = o.floor_lazy = 0.99999;
  const LmMetrics m = metrics_of(quantize_all(stories().fp32, o));
  EXPECT_LT(m.kl, 0.02);
  EXPECT_GT(m.top1, 0.9);
  EXPECT_GE(m.greedy_match_min, 4u) << "the first greedy tokens must match on every prompt";
}

TEST(LlamaQuantized, LooseQuantizationDiverges) {
  if (!require_file(shared_data("stories260K/stories260K.bin"))) return;
  XfpOptions o;
  o.bits = 2;
  const LmMetrics loose = metrics_of(quantize_all(stories().fp32, o));
  EXPECT_GT(loose.kl, 0.5);
  EXPECT_LT(loose.top1, 0.6);
  EXPECT_LT(loose.greedy_match, 8.0);
  EXPECT_GT(loose.ppl, 2 * loose.ppl_fp32);
}

TEST(LlamaQuantized, TighterFloorsDriftLess) {
  if (!require_file(shared_data("stories260K/stories260K.bin"))) return;
  std::mt19937_64 rng(fresh_seed());
  XfpOptions lo, hi;
  lo.auto_mode = hi.auto_mode = true;
  lo.floor_strict = 0.95 + 0.02 * double(rng() % 100) / 100;  // somewhere in [0.95, 0.97)
  hi.floor_strict = 0.9999;
  EXPECT_LT(metrics_of(quantize_all(stories().fp32, hi)).kl, metrics_of(quantize_all(stories().fp32, lo)).kl);
}

TEST(LlamaQuantized, ApplyXfpRefusesForeignLayers) {
  if (!require_file(shared_data("stories260K/stories260K.bin"))) return;
  TensorMap t = stories().fp32;
  const RowMatrix& w = t.at("model.layers.0.self_attn.k_proj.weight");
  XfpFile f;
  f.layers.push_back(quantize_baseline(Scheme::kNf4B64, "model.layers.9.self_attn.k_proj.weight", Role::kAttention,
                                       w.data(), uint32_t(w.rows()), uint32_t(w.cols())));
  EXPECT_THROW(apply_xfp(t, f, "x.xfp"), Error);
  f.layers[0].name = "model.layers.0.self_attn.q_proj.weight";  // 64x64, not 32x64
  EXPECT_THROW(apply_xfp(t, f, "x.xfp"), Error);
}

}  // namespace
}  // namespace lutc

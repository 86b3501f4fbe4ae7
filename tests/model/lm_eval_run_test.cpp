// lm-eval's run (lm_eval_run.h) against the pieces it is documented to equal:
// the reference of make_reference() on the fp32 model, and the metrics of
// evaluate_lm() on a model with the .xfp applied by load_tensors + apply_xfp
// (another path than the run's FileWeights); streaming gives the same
// numbers; logits are forward_all's; a non-finite reference is refused.
#include "lutc/model/lm_eval_run.h"

#include <gtest/gtest.h>

#include <random>

#include "flt_max_model.h"
#include "lutc/model/error.h"
#include "lutc/model/quantize.h"
#include "lutc/model/roles.h"
#include "lutc/model/xfp_file.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace lutc::testing;

std::string bin_path() { return shared_data("stories260K/stories260K.bin"); }

// A random half (at least one) of the model's matrices at 2 or 3 bits, the
// rest left out of the .xfp, so the model under test is visibly not fp32.
std::string write_random_xfp(std::mt19937_64& rng) {
  const TensorMap t = load_tensors(*WeightFile::open(bin_path()));
  XfpFile f;
  const RoleRules rules;
  XfpOptions o;
  o.bits = 2 + unsigned(rng() % 2);
  for (const auto& [name, w] : t) {
    if (w.cols() == 1 || (rng() % 2 && !f.layers.empty())) continue;
    f.layers.push_back(quantize_xfp(name, rules.classify(name), w.data(), uint32_t(w.rows()), uint32_t(w.cols()), o));
  }
  const std::string path = temp_dir() + "/random.xfp";
  write_xfp(path, f);
  return path;
}

std::unique_ptr<LlamaModel> model_with(const std::string& xfp, size_t* replaced) {
  auto file = WeightFile::open(bin_path());
  TensorMap t = load_tensors(*file);
  *replaced = apply_xfp(t, read_xfp(xfp), xfp);
  return std::make_unique<LlamaModel>(llama_config_from(*file), std::move(t));
}

LmBenchConfig random_config(std::mt19937_64& rng) { return {1 + uint32_t(rng() % 3), 2 + uint32_t(rng() % 10)}; }

void expect_same_metrics(const LmMetrics& got, const LmMetrics& want) {
  EXPECT_EQ(got.positions, want.positions);
  EXPECT_EQ(got.kl, want.kl);
  EXPECT_EQ(got.kl_reverse, want.kl_reverse);
  EXPECT_EQ(got.kl_max, want.kl_max);
  EXPECT_EQ(got.top1, want.top1);
  EXPECT_EQ(got.ppl, want.ppl);
  EXPECT_EQ(got.ppl_fp32, want.ppl_fp32);
  EXPECT_EQ(got.greedy_match, want.greedy_match);
  EXPECT_EQ(got.greedy_match_min, want.greedy_match_min);
  EXPECT_EQ(got.distinct2, want.distinct2);
  EXPECT_EQ(got.repeat4, want.repeat4);
}

TEST(LmEvalRun, Fp32AgainstItselfIsExactAndTheReferenceIsMakeReferences) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const LmBenchConfig cfg = random_config(rng);
  const LmEval ev(bin_path(), "");
  EXPECT_EQ(ev.config().vocab_size, LlamaModel::open(bin_path())->config().vocab_size);
  const LmEvalResult r = ev.evaluate(cfg);
  const LmReference want = make_reference(*LlamaModel::open(bin_path()), cfg);
  EXPECT_EQ(r.reference.sequences, want.sequences);
  EXPECT_EQ(r.reference.self_ppl, want.self_ppl);
  EXPECT_EQ(r.reference.self_top_prob, want.self_top_prob);
  EXPECT_EQ(r.metrics.kl, 0.0);
  EXPECT_EQ(r.metrics.kl_max, 0.0);
  EXPECT_EQ(r.metrics.top1, 1.0);
  EXPECT_EQ(r.metrics.ppl, r.metrics.ppl_fp32);
  EXPECT_EQ(r.metrics.greedy_match, double(cfg.steps));
  EXPECT_EQ(r.metrics.positions, uint64_t(cfg.prompts) * cfg.steps);
  EXPECT_EQ(r.tensors_replaced, 0u);
  EXPECT_TRUE(r.bench.is_null());  // not asked for
  EXPECT_GE(r.eval_seconds, r.reference_seconds);
}

TEST(LmEvalRun, WithAnXfpScoresTheModelWithItsLayersDecoded) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const std::string xfp = write_random_xfp(rng);
  const LmBenchConfig cfg = random_config(rng);
  size_t replaced = 0;
  const LmMetrics want = evaluate_lm(*model_with(xfp, &replaced), make_reference(*LlamaModel::open(bin_path()), cfg));
  const LmEval ev(bin_path(), xfp);
  const LmEvalResult r = ev.evaluate(cfg);
  expect_same_metrics(r.metrics, want);
  EXPECT_EQ(r.tensors_replaced, replaced);
  EXPECT_GT(r.metrics.kl, 0.0);  // 2- or 3-bit layers move the distributions

  LmEval streamed(bin_path(), xfp);
  streamed.set_residency(Residency::kStream);
  EXPECT_TRUE(streamed.streaming());
  expect_same_metrics(streamed.evaluate(cfg).metrics, want);
}

TEST(LmEvalRun, LogitsAreTheModelUnderTestsForwardPass) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const std::string xfp = write_random_xfp(rng);
  size_t replaced = 0;
  const auto m = model_with(xfp, &replaced);
  std::vector<int32_t> ids(1 + rng() % 12);
  for (auto& t : ids) t = int32_t(rng() % m->config().vocab_size);
  LmEval ev(bin_path(), xfp);
  if (rng() % 2) ev.set_residency(Residency::kStream);
  SCOPED_TRACE(ev.streaming() ? "streaming" : "in memory");
  const RowMatrix got = ev.logits(ids), want = m->forward_all(ids);
  ASSERT_EQ(got.rows(), Eigen::Index(ids.size()));
  ASSERT_EQ(got.cols(), Eigen::Index(m->config().vocab_size));
  EXPECT_TRUE(got == want);
}

TEST(LmEvalRun, NonFiniteReferenceIsRefusedNamingTheModel) {
  const std::string src = shared_data("stories260K/stories260K.safetensors");
  if (!require_file(src)) return;
  std::mt19937_64 rng(fresh_seed());
  const std::string bad = temp_dir() + "/flt_max.safetensors";
  const std::string tensor = write_with_flt_max(src, bad, rng);
  SCOPED_TRACE("FLT_MAX in " + tensor);
  try {
    LmEval(bad, "").evaluate({1, 4});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("model '" + bad + "'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("non-finite logits"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lutc

// lm-eval's run (lm_eval_run.h) against the pieces it is documented to equal:
// the reference of make_reference() on the fp32 model, and the metrics of
// evaluate_lm() on a model with the .xfp applied by load_tensors + apply_xfp
// (another path than the run's FileWeights); streaming gives the same
// numbers; logits are forward_all's; a non-finite reference is refused; the
// golden path (no projection backend) gives what it gave before backends
// existed, bit for bit (a fixture from then).
#include "lutc/model/lm_eval_run.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "flt_max_model.h"
#include "lutc/model/error.h"
#include "lutc/model/npy.h"
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

// tests/data/README.md: logits and metrics of stories260K.bin with the
// version 1 fixture .xfp (layers 0-2 at xfp.v2 4 bits), written by
// `lutc lm-eval` before the forward pass took projection backends. The golden
// path must still give them bit for bit, in both residencies: it is the
// yardstick every other path is measured against.
TEST(LmEvalRun, GoldenPathGivesThePreBackendNumbersBitForBit) {
  if (!require_file(bin_path())) return;
  const std::string dir = LUTC_TEST_DATA, xfp = dir + "/stories260K_layers0-2.xfp.v2b4.v1.xfp";
  const nlohmann::json want = nlohmann::json::parse(std::ifstream(dir + "/lm_eval_golden_metrics.json"));
  const NpyArray logits = read_npy(dir + "/lm_eval_golden_logits.npy");
  const std::vector<int32_t> tokens = want["tokens"].get<std::vector<int32_t>>();
  ASSERT_EQ(logits.rows(), tokens.size());
  for (Residency res : {Residency::kMemory, Residency::kStream}) {
    SCOPED_TRACE(res == Residency::kStream ? "streaming" : "in memory");
    LmEval ev(bin_path(), xfp);
    ev.set_residency(res);
    ev.set_projections(nullptr);
    const RowMatrix got = ev.logits(tokens);
    ASSERT_EQ(uint64_t(got.cols()), logits.cols());
    EXPECT_TRUE(std::equal(logits.data.begin(), logits.data.end(), got.data()));
    const LmEvalResult r = ev.evaluate({want["prompts"].get<uint32_t>(), want["steps"].get<uint32_t>()});
    const nlohmann::json m = to_json(r.metrics);
    for (const char* key : {"positions", "kl_fp32_q", "kl_q_fp32", "kl_max", "top1_agreement", "ppl_q_on_fp32_text",
                            "ppl_fp32_on_fp32_text", "greedy_match_mean", "greedy_match_min", "distinct2", "repeat4"})
      EXPECT_EQ(m.at(key), want.at(key)) << key;
    EXPECT_EQ(r.reference.self_ppl, want["fp32_self_ppl"].get<double>());
    EXPECT_EQ(r.reference.self_top_prob, want["fp32_greedy_token_prob"].get<double>());
    EXPECT_EQ(r.projections.backend, "golden");
    EXPECT_EQ(r.projections.tensors, 21u);
  }
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

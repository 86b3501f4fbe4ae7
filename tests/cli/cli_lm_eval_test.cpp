// lm-eval never passes a model whose metrics are not numbers: a finite
// FLT_MAX weight overflows float arithmetic into inf/NaN logits, and a NaN
// compares false against every gate, so it used to print -nan and exit 0.
#include <gtest/gtest.h>

#include <cfloat>
#include <random>
#include <vector>

#include "lutc/model/weights.h"
#include "run_lutc.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

// stories260K with every weight of one random layer matrix set to FLT_MAX:
// each is finite, but any product with them overflows, and sums of +inf and
// -inf make NaN, wherever in the model the matrix sits. (One FLT_MAX alone
// may survive, e.g. behind a SiLU that sends it to 0.)
std::string write_with_flt_max(const std::string& src, const std::string& path, std::mt19937_64& rng) {
  auto w = WeightFile::open(src);
  std::vector<std::vector<float>> data;
  std::vector<NamedMatrix> tensors;
  std::vector<size_t> matrices;
  for (const TensorInfo& t : w->tensors()) {
    data.push_back(w->read_all(t));
    if (t.name.find(".layers.") != std::string::npos && t.shape.size() == 2) matrices.push_back(data.size() - 1);
  }
  for (size_t i = 0; i < data.size(); ++i)
    tensors.push_back({w->tensors()[i].name, w->tensors()[i].shape, data[i].data()});
  const size_t pick = matrices.at(rng() % matrices.size());
  for (float& v : data[pick]) v = FLT_MAX;
  write_safetensors(path, tensors, w->metadata());
  return w->tensors()[pick].name;
}

TEST(CliLmEval, NonFiniteMetricsFailWithTheModelNamed) {
  const std::string src = shared_data("stories260K/stories260K.safetensors");
  if (!require_file(src)) return;
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = temp_dir(), bad = dir + "/flt_max.safetensors", q = dir + "/flt_max.xfp";
  const std::string tensor = write_with_flt_max(src, bad, rng);
  SCOPED_TRACE("FLT_MAX in " + tensor);

  // The broken model as the fp32 reference: refused before anything is scored.
  RunResult r = run_lutc({"lm-eval", bad, "--prompts", "1", "--steps", "6"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("non-finite logits"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;

  // Through an .xfp the same matrix decodes to finite, bounded values (every
  // scheme's scale saturates), so the model under test stays scoreable; the
  // guard on its metrics is LmMetrics::finite(), tested in lm_metrics_test.
  ASSERT_EQ(run_lutc({"quantize", bad, "--scheme", "int4.g128", "-q", "-o", q}).exit_code, 0);
  r = run_lutc({"lm-eval", src, "--xfp", q, "--prompts", "1", "--steps", "6", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The sound model with its own sound quantization still passes.
  ASSERT_EQ(run_lutc({"quantize", src, "--scheme", "int4.g128", "-q", "-o", q}).exit_code, 0);
  r = run_lutc({"lm-eval", src, "--xfp", q, "--prompts", "1", "--steps", "6"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace lutc::testing

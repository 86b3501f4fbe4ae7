// lm-eval never passes a model whose metrics are not numbers: a finite
// FLT_MAX weight overflows float arithmetic into inf/NaN logits, and a NaN
// compares false against every gate, so it used to print -nan and exit 0.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "flt_max_model.h"
#include "run_lutc.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

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

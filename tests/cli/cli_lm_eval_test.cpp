// lm-eval never passes a model whose metrics are not numbers: a finite
// FLT_MAX weight overflows float arithmetic into inf/NaN logits, and a NaN
// compares false against every gate, so it used to print -nan and exit 0.
// --projections: the kernels by default, golden on request, each reported,
// with close metrics; an unknown name is a usage error listing the choices.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
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

TEST(CliLmEval, ProjectionsAreKernelsByDefaultGoldenOnRequestAndReported) {
  const std::string bin = shared_data("stories260K/stories260K.bin");
  if (!require_file(bin)) return;
  std::mt19937_64 rng(fresh_seed());
  const std::string q = temp_dir() + "/proj.xfp";
  const char* schemes[] = {"int4.g128", "xfp.v2", "nf4.b64"};
  ASSERT_EQ(run_lutc({"quantize", bin, "--scheme", schemes[rng() % 3], "-q", "-o", q}).exit_code, 0);
  const std::string prompts = std::to_string(1 + rng() % 3), steps = std::to_string(4 + rng() % 12);
  const std::string threads = std::to_string(1 + rng() % 3);
  const std::vector<std::string> base = {"lm-eval", bin, "--xfp", q, "--json", "--prompts", prompts, "--steps", steps};
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    const RunResult r = run_lutc(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
  };
  const nlohmann::json k = run({"--projection-threads", threads}), g = run({"--projections", "golden"});
  ASSERT_TRUE(k.contains("projections") && g.contains("projections"));
  EXPECT_EQ(k["projections"]["backend"], "kernels");
  EXPECT_EQ(k["projections"]["threads"].get<unsigned>(), std::stoul(threads));
  EXPECT_EQ(g["projections"]["backend"], "golden");
  const uint64_t tensors = k["tensors_replaced"].get<uint64_t>();
  EXPECT_EQ(k["projections"]["tensors"].get<uint64_t>(), tensors);
  EXPECT_EQ(g["projections"]["tensors"].get<uint64_t>(), tensors);
  // Packed 4-bit layers hold a fraction of their fp32 bytes; golden holds fp32.
  EXPECT_LT(k["projections"]["held_bytes"].get<double>(), 0.5 * k["projections"]["fp32_bytes"].get<double>());
  EXPECT_EQ(g["projections"]["held_bytes"], g["projections"]["fp32_bytes"]);
  EXPECT_EQ(k["projections"]["fp32_bytes"], g["projections"]["fp32_bytes"]);
  const double kl_k = k["kl_fp32_q"].get<double>(), kl_g = g["kl_fp32_q"].get<double>();
  EXPECT_NEAR(kl_k, kl_g, 1e-4 + 1e-4 * kl_g);
  EXPECT_EQ(k["fp32_self_ppl"], g["fp32_self_ppl"]);  // the reference is fp32 either way

  const RunResult bad = run_lutc({"lm-eval", bin, "--xfp", q, "--projections", "kernel"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("golden, kernels"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("did you mean 'kernels'"), std::string::npos) << bad.err;

  // hprocess scores its candidates the same way and says which it used.
  const RunResult h = run_lutc({"hprocess", bin, "--budget-frac", "0.5", "--prompts", "1", "--steps", "4", "--json",
                                "--projections", rng() % 2 ? "golden" : "kernels"});
  ASSERT_NE(h.out, "") << h.err;
  const nlohmann::json hj = nlohmann::json::parse(h.out);
  EXPECT_TRUE(hj["projections"]["backend"] == "golden" || hj["projections"]["backend"] == "kernels");
}

}  // namespace
}  // namespace lutc::testing

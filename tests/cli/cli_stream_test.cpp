// --stream on and off give the same results: lm-eval's JSON (all but the
// timings and the memory report) and act-stats' output file, on the real
// stories260K weights as a llama2.c .bin and a 2-shard Hugging Face folder,
// with and without an .xfp from `lutc quantize` (quantized layers, kept
// tensors and aliases).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "hf_folder_builder.h"
#include "lutc/model/llama.h"
#include "lutc/model/weights.h"
#include "run_lutc.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

nlohmann::json lm_eval(std::vector<std::string> args) {
  args.insert(args.begin(), "lm-eval");
  const RunResult r = run_lutc(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return {};
  nlohmann::json j = nlohmann::json::parse(r.out);
  // Timings, and the memory reports: what a run holds is what streaming changes.
  for (const char* timing : {"eval_seconds", "reference_seconds", "memory", "projections"}) j.erase(timing);
  return j;
}

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(CliStream, LmEvalAndActStatsAreEqualStreamedOrNot) {
  const std::string bin = shared_data("stories260K/stories260K.bin");
  if (!require_file(bin)) return;
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto src = WeightFile::open(bin);
  const HfFolder f = write_hf_folder(temp_dir() + "/stream_hf", *src, llama_config_from(*src), 2);
  const std::string xfp = temp_dir() + "/stream_q.xfp";
  const RunResult q = run_lutc({"quantize", f.dir, "--scheme", "xfp", "-o", xfp, "--quiet"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const std::string prompts = std::to_string(1 + rng() % 3), steps = std::to_string(4 + rng() % 20);

  for (const std::string& model : {bin, f.dir}) {
    for (const bool with_xfp : {false, true}) {
      SCOPED_TRACE(model + (with_xfp ? " with .xfp" : ""));
      std::vector<std::string> args = {model, "--json", "--prompts", prompts, "--steps", steps};
      if (with_xfp) args.insert(args.end(), {"--xfp", xfp});
      std::vector<std::string> on = args, off = args, tiny = args;
      on.insert(on.end(), {"--stream", "on"});
      off.insert(off.end(), {"--stream", "off"});
      tiny.insert(tiny.end(), {"--max-memory-gb", "0.0001"});  // auto, over budget: streams
      const nlohmann::json a = lm_eval(off), b = lm_eval(on), c = lm_eval(tiny);
      EXPECT_EQ(a.dump(), b.dump());
      EXPECT_EQ(a.dump(), c.dump());
      if (with_xfp && !a.is_null()) {
        EXPECT_GT(a["tensors_replaced"].get<int>(), 10);
      }
    }
  }
  // The memory report says which mode ran.
  RunResult r = run_lutc({"lm-eval", bin, "--json", "--prompts", "1", "--steps", "4", "--max-memory-gb", "0.0001"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out)["memory"]["streaming"].get<bool>());
  r = run_lutc({"lm-eval", bin, "--json", "--prompts", "1", "--steps", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(nlohmann::json::parse(r.out)["memory"]["streaming"].get<bool>());
  EXPECT_EQ(run_lutc({"lm-eval", bin, "--stream", "maybe"}).exit_code, 2);

  for (const std::string& model : {bin, f.dir}) {
    const std::string tokens = std::to_string(4 + rng() % 20);
    std::string outs[2];
    for (int on = 0; on < 2; ++on) {
      outs[on] = temp_dir() + "/stream_stats_" + std::to_string(on) + ".safetensors";
      const RunResult s = run_lutc({"act-stats", model, "-o", outs[on], "--prompts", prompts, "--tokens", tokens,
                                    "--quiet", "--stream", on ? "on" : "off"});
      ASSERT_EQ(s.exit_code, 0) << s.err;
    }
    EXPECT_EQ(read_bytes(outs[0]), read_bytes(outs[1])) << model;
  }
}

// The candidates' metrics are compared in the library test (the trajectory
// itself depends on measured heap peaks); here the flag reaches the run.
TEST(CliStream, HprocessReportsItsMode) {
  const std::string bin = shared_data("stories260K/stories260K.bin");
  if (!require_file(bin)) return;
  for (int on = 0; on < 2; ++on) {
    const RunResult r = run_lutc({"hprocess", bin, "--budget-frac", "0.5", "--prompts", "2", "--steps", "8", "--json",
                                  "--stream", on ? "on" : "off"});
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 5) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["memory"]["streaming"].get<bool>(), on == 1);
  }
}

}  // namespace
}  // namespace lutc::testing

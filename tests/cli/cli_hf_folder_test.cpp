// The forward-pass commands take a Hugging Face folder (sharded safetensors,
// index, config.json) like the llama2.c file it came from, and a shard passed
// alone is a usage error naming the folder.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "hf_folder_builder.h"
#include "lutc/model/llama.h"
#include "lutc/model/weights.h"
#include "run_lutc.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

TEST(CliHfFolder, LmEvalAndQuantizeRunOnTheFolder) {
  const std::string bin = shared_data("stories260K/stories260K.bin");
  if (!require_file(bin)) return;
  auto src = WeightFile::open(bin);
  const HfFolder f = write_hf_folder(temp_dir() + "/hf", *src, llama_config_from(*src), 2);

  const std::vector<std::string> eval = {"--json", "--prompts", "2", "--steps", "16"};
  auto lm_eval = [&](const std::vector<std::string>& args) {
    std::vector<std::string> a = {"lm-eval"};
    a.insert(a.end(), args.begin(), args.end());
    a.insert(a.end(), eval.begin(), eval.end());
    RunResult r = run_lutc(a);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
  };
  const nlohmann::json ref = lm_eval({bin});
  for (const std::string& input : {f.dir, f.index}) {
    const nlohmann::json got = lm_eval({input});
    if (got.is_null() || ref.is_null()) continue;
    // Same model up to summation order: the same greedy text and its perplexity.
    EXPECT_NEAR(got["fp32_self_ppl"].get<double>(), ref["fp32_self_ppl"].get<double>(),
                1e-4 * ref["fp32_self_ppl"].get<double>())
        << input;
  }

  const std::string xfp = temp_dir() + "/q.xfp";
  RunResult q = run_lutc({"quantize", f.dir, "--scheme", "xfp", "-o", xfp, "--quiet"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const nlohmann::json qe = lm_eval({f.dir, "--xfp", xfp});
  if (!qe.is_null()) {
    EXPECT_GT(qe["tensors_replaced"].get<int>(), 10);
  }

  RunResult alone = run_lutc({"lm-eval", f.shards[0]});
  EXPECT_EQ(alone.exit_code, 2) << alone.err;
  EXPECT_NE(alone.err.find("pass the folder " + f.dir), std::string::npos) << alone.err;
}

}  // namespace
}  // namespace lutc::testing

// The forward-pass bench (lm_forward_bench.h): the weights it counts per
// token are the model's matrices as documented (the embedding only as a tied
// classifier), its rates are positive and consistent with each other, and a
// streaming model gets the batched-versus-single report instead.
#include "lutc/model/lm_forward_bench.h"

#include <gtest/gtest.h>

#include <random>

#include "lutc/model/weights.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace lutc::testing;

std::string bin_path() { return shared_data("stories260K/stories260K.bin"); }

TEST(LmForwardBench, InMemoryCountsEveryMatrixATokenMultiplies) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const auto m = LlamaModel::open(bin_path());
  // Straight from the file: every 2-D tensor, the embedding only when it is
  // also the classifier (stories260K is dense: no experts to leave out).
  const auto file = WeightFile::open(bin_path());
  uint64_t want = 0;
  for (const TensorInfo& t : file->tensors()) {
    if (t.shape.size() != 2 || t.shape[1] == 1) continue;
    if (t.name == "model.embed_tokens.weight" && !m->config().tied_classifier) continue;
    want += t.shape[0] * t.shape[1];
  }
  const nlohmann::json b = bench_forward(*m, 1 + uint32_t(rng() % 2), 1 + uint32_t(rng() % 4));
  EXPECT_EQ(b.at("weights_per_token").get<uint64_t>(), want);
  const double decode = b.at("decode_tokens_per_s"), gemv = b.at("gemv_only_tokens_per_s");
  EXPECT_GT(decode, 0);
  EXPECT_GT(gemv, 0);
  EXPECT_DOUBLE_EQ(b.at("ratio_decode_to_gemv_only").get<double>(), decode / gemv);
  EXPECT_DOUBLE_EQ(b.at("gemv_weights_per_s").get<double>(), gemv * double(want));
  EXPECT_EQ(b.at("sink").get<double>(), 1.0);  // the GEMV sums were finite
  EXPECT_FALSE(b.contains("streaming"));
}

TEST(LmForwardBench, StreamingTimesBatchedAgainstSinglePromptDecoding) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const auto m = LlamaModel::open(bin_path(), "", Residency::kStream);
  const uint32_t prompts = 1 + uint32_t(rng() % 3);
  const nlohmann::json b = bench_forward(*m, prompts, 1 + uint32_t(rng() % 4));
  EXPECT_EQ(b.at("streaming").get<bool>(), true);
  EXPECT_EQ(b.at("batched_prompts").get<uint32_t>(), prompts);
  EXPECT_GT(b.at("decode_tokens_per_s").get<double>(), 0);
  EXPECT_GT(b.at("seconds_per_position_batched").get<double>(), 0);
  EXPECT_GT(b.at("seconds_per_token_single_prompt").get<double>(), 0);
  EXPECT_FALSE(b.contains("weights_per_token"));
}

}  // namespace
}  // namespace lutc

// The streaming forward pass (weights fetched one layer at a time through a
// WeightProvider) against the in-memory one: logits, generated text, metrics
// and projection observations must be bit-identical, on the real stories260K
// weights (llama2.c .bin and a 2-shard Hugging Face folder), with and without
// an .xfp decoded into them.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstring>
#include <filesystem>
#include <random>

#include "hf_folder_builder.h"
#include "lutc/model/error.h"
#include "lutc/model/hprocess.h"
#include "lutc/model/llama.h"
#include "lutc/model/llama_act_stats.h"
#include "lutc/model/lm_metrics.h"
#include "lutc/model/quantize.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace lutc::testing;
namespace fs = std::filesystem;

std::string bin_path() { return shared_data("stories260K/stories260K.bin"); }

// An .xfp of every matrix of the model, written once per run.
const std::string& xfp_path() {
  static const std::string path = [] {
    auto file = WeightFile::open(bin_path());
    XfpFile f;
    const RoleRules rules;
    XfpOptions o;
    o.floor_strict = o.floor_lazy = 0.99;
    for (const TensorInfo& t : file->tensors()) {
      if (!t.is_matrix()) continue;
      const std::vector<float> w = file->read_all(t);
      f.layers.push_back(
          quantize_xfp(t.name, rules.classify(t.name), w.data(), uint32_t(t.rows()), uint32_t(t.cols()), o));
    }
    const std::string p = temp_dir() + "/stream_test_" + std::to_string(::getpid()) + ".xfp";
    write_xfp(p, f);
    return p;
  }();
  return path;
}

const std::string& hf_dir() {
  static const std::string dir = [] {
    auto file = WeightFile::open(bin_path());
    const std::string d = temp_dir() + "/stream_test_hf_" + std::to_string(::getpid());
    fs::create_directories(d);
    write_hf_folder(d, *file, llama_config_from(*file), 2);
    return d;
  }();
  return dir;
}

std::vector<int32_t> random_tokens(std::mt19937_64& rng, uint32_t vocab, size_t n) {
  std::vector<int32_t> t(n);
  for (auto& x : t) x = int32_t(rng() % vocab);
  return t;
}

void expect_bit_equal(const RowMatrix& a, const RowMatrix& b) {
  ASSERT_EQ(a.rows(), b.rows());
  ASSERT_EQ(a.cols(), b.cols());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), size_t(a.size()) * sizeof(float)), 0);
}

class Stream : public ::testing::TestWithParam<std::pair<bool, bool>> {};  // (hf folder, with .xfp)

TEST_P(Stream, LogitsTextAndMetricsAreBitIdentical) {
  if (!require_file(bin_path())) return;
  const auto [hf, with_xfp] = GetParam();
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::string model = hf ? hf_dir() : bin_path();
  const std::string xfp = with_xfp ? xfp_path() : "";
  const auto mem = LlamaModel::open(model, xfp, Residency::kMemory);
  const auto str = LlamaModel::open(model, xfp, Residency::kStream);
  EXPECT_FALSE(mem->streaming());
  EXPECT_TRUE(str->streaming());
  EXPECT_TRUE(str->tensors().empty());
  EXPECT_EQ(mem->shapes(), str->shapes());
  const uint32_t vocab = mem->config().vocab_size;
  const std::vector<int32_t> tokens = random_tokens(rng, vocab, 1 + rng() % 40);
  const RowMatrix a = mem->forward_all(tokens);
  expect_bit_equal(a, str->forward_all(tokens));
  if (with_xfp) {  // the .xfp really is decoded into both
    const auto fp32 = LlamaModel::open(model);
    EXPECT_GT((fp32->forward_all(tokens) - a).cwiseAbs().maxCoeff(), 0.f);
  }

  // step(), one sequence and several at once.
  KvCache cm = mem->new_cache(), cs = str->new_cache();
  for (size_t i = 0; i < std::min<size_t>(tokens.size(), 8); ++i) {
    const Eigen::VectorXf lm = mem->step(tokens[i], cm), ls = str->step(tokens[i], cs);
    ASSERT_EQ(std::memcmp(lm.data(), ls.data(), size_t(lm.size()) * sizeof(float)), 0) << "position " << i;
  }
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 3; ++i) prompts.push_back(random_tokens(rng, vocab, 1 + rng() % 4));
  const uint32_t steps = 4 + uint32_t(rng() % 12);
  const auto batch = greedy_generate_batch(*str, prompts, steps);
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(batch[i], greedy_generate(*mem, prompts[i], steps));

  // Projection inputs and the lm-eval metrics.
  ActivationStatsCollector om, os;
  mem->forward_all(tokens, &om);
  str->forward_all(tokens, &os);
  ASSERT_EQ(om.layers().size(), os.layers().size());
  for (size_t i = 0; i < om.layers().size(); ++i) {
    EXPECT_EQ(om.layers()[i].name, os.layers()[i].name);
    EXPECT_EQ(om.layers()[i].sum_sq, os.layers()[i].sum_sq);
  }
  const LmBenchConfig cfg{3, 10};
  const LmReference ref = make_reference(*LlamaModel::open(model), cfg);
  const LmReference ref_s = make_reference(*LlamaModel::open(model, "", Residency::kStream), cfg);
  EXPECT_EQ(ref.sequences, ref_s.sequences);
  EXPECT_EQ(to_json(evaluate_lm(*mem, ref)).dump(), to_json(evaluate_lm(*str, ref_s)).dump());
}

INSTANTIATE_TEST_SUITE_P(Inputs, Stream,
                         ::testing::Values(std::make_pair(false, false), std::make_pair(false, true),
                                           std::make_pair(true, false), std::make_pair(true, true)));

TEST(StreamBatch, StepBatchEqualsSeparateSteps) {
  if (!require_file(bin_path())) return;
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const auto m = LlamaModel::open(bin_path());
  const uint32_t vocab = m->config().vocab_size;
  std::vector<KvCache> one(4), many(4);
  for (size_t b = 0; b < 4; ++b) one[b] = m->new_cache(), many[b] = m->new_cache();
  for (int pos = 0; pos < 6; ++pos) {
    std::vector<int32_t> tokens;
    std::vector<KvCache*> caches;
    for (size_t b = 0; b < 4; ++b) {
      tokens.push_back(int32_t(rng() % vocab));
      caches.push_back(&many[b]);
    }
    const auto got = m->step_batch(tokens, caches);
    for (size_t b = 0; b < 4; ++b) {
      const Eigen::VectorXf want = m->step(tokens[b], one[b]);
      EXPECT_EQ(std::memcmp(want.data(), got[b].data(), size_t(want.size()) * sizeof(float)), 0);
    }
  }
}

TEST(StreamWeights, XfpNamesAreCheckedAtOpen) {
  if (!require_file(bin_path())) return;
  std::shared_ptr<const WeightFile> file = WeightFile::open(bin_path());
  XfpFile f;
  const TensorInfo& t = *file->find("model.layers.0.self_attn.q_proj.weight");
  const std::vector<float> w = file->read_all(t);
  f.layers.push_back(quantize_baseline(Scheme::kFp8E4M3, "no.such.weight", Role::kAttention, w.data(),
                                       uint32_t(t.rows()), uint32_t(t.cols())));
  EXPECT_THROW(FileWeights(file, &f, "x.xfp"), Error);
  f.layers[0].name = t.name;
  const FileWeights ok(file, &f, "x.xfp");
  EXPECT_EQ(ok.replaced(), 1u);
  TensorMap all = load_tensors(*file);
  apply_xfp(all, f);
  EXPECT_EQ(ok.fetch(t.name), all.at(t.name));
  EXPECT_EQ(choose_residency(StreamChoice::kAuto, 10, 9), Residency::kStream);
  EXPECT_EQ(choose_residency(StreamChoice::kAuto, 9, 9), Residency::kMemory);
  EXPECT_EQ(choose_residency(StreamChoice::kOff, 10, 9), Residency::kMemory);
  EXPECT_EQ(choose_residency(StreamChoice::kOn, 1, 9), Residency::kStream);
  EXPECT_GT(default_memory_budget(), 0u);
}

TEST(StreamHprocess, CandidatesScoreTheSameStreamedOrNot) {
  if (!require_file(bin_path())) return;
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const double strict = 0.95 + 0.04 * double(rng() % 1000) / 1000, lazy = strict - 0.01;
  std::string got[2];
  for (int on = 0; on < 2; ++on) {
    HprocessOptions o;
    o.bench = {2, 8};
    o.stream = on ? StreamChoice::kOn : StreamChoice::kOff;
    Hprocess hp(bin_path(), o);
    EXPECT_EQ(hp.streaming(), on == 1);
    got[on] = to_json(hp.evaluate(strict, lazy, "probe").lm).dump();
  }
  EXPECT_EQ(got[0], got[1]);
}

}  // namespace
}  // namespace lutc

// The act-stats run (act_stats_run.h): the statistics of the text it says it
// reads, each checked against a collector driven by hand over the same token
// ids (the file's, greedy_generate's or sample_generate's with seed + i); a
// streaming model's equal to the in-memory one's; progress that adds up; the
// metadata; and the per-projection summary against sums done here.
#include "lutc/model/act_stats_run.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>

#include "lutc/model/error.h"
#include "lutc/model/weights.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace lutc::testing;

std::string bin_path() { return shared_data("stories260K/stories260K.bin"); }

std::unique_ptr<LlamaModel> open_model(Residency r = Residency::kMemory) { return LlamaModel::open(bin_path(), "", r); }

// Every projection's sums bit for bit (the same forward pass on the same ids).
void expect_same_stats(const ActivationStatsCollector& got, const ActivationStatsCollector& want) {
  ASSERT_EQ(got.layers().size(), want.layers().size());
  for (size_t i = 0; i < want.layers().size(); ++i) {
    SCOPED_TRACE(want.layers()[i].name);
    EXPECT_EQ(got.layers()[i].name, want.layers()[i].name);
    EXPECT_EQ(got.layers()[i].positions, want.layers()[i].positions);
    EXPECT_EQ(got.layers()[i].sum_sq, want.layers()[i].sum_sq);
  }
}

ActivationStatsCollector observed(const LlamaModel& m, const std::vector<std::vector<int32_t>>& sequences) {
  ActivationStatsCollector c;
  for (const auto& s : sequences) m.forward_all(s, &c);
  return c;
}

// The unreached weights as the model's own tie says they must be: an untied
// model's embedding is a lookup only; a tied one's is the classifier.
std::vector<std::string> expected_unreached(const LlamaModel& m) {
  if (m.config().tied_classifier) return {};
  return {"model.embed_tokens.weight"};
}

TEST(ActStatsRun, TokensFileSequencesAreObservedAsWritten) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const auto m = open_model();
  const LlamaConfig& c = m->config();
  std::vector<std::vector<int32_t>> seqs(1 + rng() % 5);
  uint64_t longest = 0;
  const std::string path = temp_dir() + "/tokens.txt";
  {
    std::ofstream f(path);
    for (auto& s : seqs) {
      s.resize(1 + rng() % 20);
      for (auto& t : s) t = int32_t(rng() % c.vocab_size);
      for (size_t i = 0; i < s.size(); ++i) f << (i ? " " : "") << s[i];
      f << "\n\n";  // blank lines are skipped
      longest += s.size();
    }
  }
  ActStatsTextOptions o;
  o.tokens_file = path;
  const ActStatsRun r = measure_act_stats(*m, o);
  expect_same_stats(r.stats, observed(*m, seqs));
  EXPECT_EQ(r.sequences, seqs.size());
  EXPECT_EQ(r.positions, longest);  // a dense model's projections all see every position
  EXPECT_EQ(r.text, "tokens file " + path);
  EXPECT_EQ(r.unreached, expected_unreached(*m));
}

TEST(ActStatsRun, GreedyAndSampledContinuationsOfTheBenchPrompts) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const auto m = open_model();
  ActStatsTextOptions o;
  o.prompts = 2 + uint32_t(rng() % 3);  // two or more: prompt i samples with seed + i
  o.tokens = 1 + uint32_t(rng() % 12);
  const auto prompts = bench_prompts(o.prompts, m->config().vocab_size);
  std::vector<std::vector<int32_t>> greedy, sampled;
  for (const auto& p : prompts) greedy.push_back(greedy_generate(*m, p, o.tokens));
  const ActStatsRun g = measure_act_stats(*m, o);
  expect_same_stats(g.stats, observed(*m, greedy));
  EXPECT_EQ(g.positions, uint64_t(o.prompts) * (prompts[0].size() + o.tokens));
  EXPECT_EQ(g.text, "lm-eval prompts, greedy continuation of " + std::to_string(o.tokens) + " tokens");

  o.sample = true;
  o.seed = rng() % 1000;
  for (size_t i = 0; i < prompts.size(); ++i) sampled.push_back(sample_generate(*m, prompts[i], o.tokens, o.seed + i));
  const ActStatsRun s = measure_act_stats(*m, o);
  expect_same_stats(s.stats, observed(*m, sampled));
  EXPECT_EQ(s.text, "lm-eval prompts, sampled (seed " + std::to_string(o.seed) + ") continuation of " +
                        std::to_string(o.tokens) + " tokens");
}

TEST(ActStatsRun, StreamingGivesTheInMemoryStatistics) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  ActStatsTextOptions o;
  o.prompts = 2 + uint32_t(rng() % 3);
  o.tokens = 1 + uint32_t(rng() % 8);
  const auto streamed = open_model(Residency::kStream);
  ASSERT_TRUE(streamed->streaming());
  const ActStatsRun s = measure_act_stats(*streamed, o);
  const ActStatsRun r = measure_act_stats(*open_model(), o);
  expect_same_stats(s.stats, r.stats);
  EXPECT_EQ(s.positions, r.positions);
}

TEST(ActStatsRun, ProgressCoversEveryPositionInAtMostFiftyItems) {
  if (!require_file(bin_path())) return;
  std::mt19937_64 rng(fresh_seed());
  const auto m = open_model();
  const size_t n = 40 + rng() % 100;
  uint64_t positions = 0;
  const std::string path = temp_dir() + "/many.txt";
  {
    std::ofstream f(path);
    for (size_t i = 0; i < n; ++i) {
      const size_t len = 1 + rng() % 3;
      for (size_t k = 0; k < len; ++k) f << (k ? " " : "") << rng() % m->config().vocab_size;
      f << "\n";
      positions += len;
    }
  }
  ActStatsTextOptions o;
  o.tokens_file = path;
  uint64_t total = 0, items_work = 0;
  std::vector<std::string> labels;
  int begins = 0, ends = 0;
  ActStatsProgress p;
  p.begin = [&](uint64_t t, bool long_run) {
    ++begins;
    total = t;
    EXPECT_FALSE(long_run);  // a few hundred positions of a 260K-weight model
  };
  p.item = [&](const std::string& label, uint64_t work) {
    EXPECT_EQ(ends, 0);
    labels.push_back(label);
    items_work += work;
  };
  p.end = [&] { ++ends; };
  const ActStatsRun r = measure_act_stats(*m, o, p);
  EXPECT_EQ(begins, 1);
  EXPECT_EQ(ends, 1);
  EXPECT_EQ(total, positions);
  EXPECT_EQ(items_work, positions);
  ASSERT_FALSE(labels.empty());
  EXPECT_LE(labels.size(), 50u);
  EXPECT_EQ(labels.front(), "sequence 1/" + std::to_string(n));
  EXPECT_EQ(r.sequences, n);
}

TEST(ActStatsRun, ContinuationsPastSeqLenAreRefusedNamingTokens) {
  if (!require_file(bin_path())) return;
  const auto m = open_model();
  ActStatsTextOptions o;
  o.prompts = 1;
  o.tokens = m->config().seq_len - 1;  // the prompt is BOS and one token
  try {
    measure_act_stats(*m, o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
    EXPECT_NE(std::string(e.what()).find("--tokens " + std::to_string(o.tokens)), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("at most " + std::to_string(m->config().seq_len - 2)), std::string::npos)
        << e.what();
  }
}

TEST(ActStatsRun, MetadataNamesTheText) {
  ActStatsRun r;
  r.text = "some text";
  r.sequences = 3;
  r.positions = 77;
  ActStatsTextOptions o;
  o.prompts = 3;
  o.tokens = 9;
  o.sample = true;
  o.seed = 41;
  using Meta = std::map<std::string, std::string>;
  const Meta common = {{"producer", "lutc act-stats"},
                       {"statistic", "E[x^2] per input column of each projection, F32 [K]"},
                       {"model", "m.bin"},
                       {"text", "some text"},
                       {"sequences", "3"},
                       {"positions", "77"}};
  Meta want = common;
  want.insert({{"prompts", "3"}, {"tokens", "9"}, {"seed", "41"}});
  EXPECT_EQ(act_stats_metadata(r, o, "m.bin"), want);
  o.sample = false;
  want.erase("seed");
  EXPECT_EQ(act_stats_metadata(r, o, "m.bin"), want);
  o.tokens_file = "t.txt";
  EXPECT_EQ(act_stats_metadata(r, o, "m.bin"), common);
}

TEST(ActStatsRun, SummaryIsMeanAndMaxOfTheSecondMoments) {
  std::mt19937_64 rng(fresh_seed());
  std::normal_distribution<float> normal;
  ActivationStatsCollector c;
  const Eigen::Index k = 1 + Eigen::Index(rng() % 40);
  RowMatrix a(Eigen::Index(1 + rng() % 6), k), b(Eigen::Index(1 + rng() % 6), k);
  for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = 3 * normal(rng);
  for (Eigen::Index i = 0; i < b.size(); ++i) b.data()[i] = normal(rng);
  c.on_input("w.a", a);
  c.on_input("w.a", b);
  c.on_input("w.zero", RowMatrix::Zero(2, 5));
  const std::vector<ActStatsSummary> s = summarize_act_stats(c);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].name, "w.a");
  EXPECT_EQ(s[0].k, uint64_t(k));
  EXPECT_EQ(s[0].positions, uint64_t(a.rows() + b.rows()));
  double mean = 0, mx = 0;
  for (Eigen::Index j = 0; j < k; ++j) {
    double ss = 0;
    for (Eigen::Index r = 0; r < a.rows(); ++r) ss += double(a(r, j)) * a(r, j);
    for (Eigen::Index r = 0; r < b.rows(); ++r) ss += double(b(r, j)) * b(r, j);
    const double e = ss / double(a.rows() + b.rows());
    mean += e / double(k);
    mx = std::max(mx, e);
  }
  EXPECT_NEAR(s[0].mean, mean, 1e-12 * mean);
  EXPECT_DOUBLE_EQ(s[0].max, mx);
  EXPECT_NEAR(s[0].max_over_mean, mx / mean, 1e-9 * mx / mean);
  EXPECT_GE(s[0].max_over_mean, 1.0);
  EXPECT_EQ(s[1].name, "w.zero");
  EXPECT_EQ(s[1].positions, 2u);
  EXPECT_EQ(s[1].mean, 0.0);
  EXPECT_EQ(s[1].max_over_mean, 0.0);  // no division by a zero mean
}

}  // namespace
}  // namespace lutc

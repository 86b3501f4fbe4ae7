#include "lutc/model/lm_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include <random>

#include "test_data.h"

namespace lutc {
namespace {

TEST(LmMetrics, DistinctAndRepeatedNgramsOnHandCountedSequences) {
  EXPECT_DOUBLE_EQ(distinct_ngrams({1, 2, 3, 4}, 2), 1.0);
  EXPECT_DOUBLE_EQ(distinct_ngrams({5, 5, 5, 5, 5}, 2), 0.25);
  EXPECT_DOUBLE_EQ(repeated_ngram_rate({1, 2, 3, 1, 2, 3, 1}, 3), 2.0 / 5);  // 123 231 312 123 231
  EXPECT_DOUBLE_EQ(repeated_ngram_rate({1, 2}, 4), 0.0);
}

TEST(LmMetrics, PeriodicTextIsMaximallyRepetitive) {
  std::mt19937_64 rng(lutc::testing::fresh_seed());
  const size_t period = 2 + rng() % 5, n = 40 + rng() % 40;
  std::vector<int32_t> motif(period), t;
  for (auto& m : motif) m = int32_t(rng() % 1000);
  while (t.size() < n) t.push_back(motif[t.size() % period]);
  std::vector<int32_t> r(n);
  for (size_t i = 0; i < n; ++i) r[i] = int32_t(i);  // never repeats
  EXPECT_LE(distinct_ngrams(t, 2), double(period) / double(n - 1) + 1e-12);
  EXPECT_GT(repeated_ngram_rate(t, 4), 0.8);
  EXPECT_DOUBLE_EQ(distinct_ngrams(r, 2), 1.0);
  EXPECT_DOUBLE_EQ(repeated_ngram_rate(r, 4), 0.0);
}

TEST(LmMetrics, GarbageRuleUsesTheGivenGate) {
  LmMetrics m;
  m.kl = 0.3;
  m.top1 = 0.7;
  EXPECT_TRUE((GarbageRule{0.2, 0}.is_garbage(m)));
  EXPECT_FALSE((GarbageRule{0.5, 0}.is_garbage(m)));
  EXPECT_TRUE((GarbageRule{0, 0.8}.is_garbage(m)));
  EXPECT_FALSE((GarbageRule{0, 0.6}.is_garbage(m)));
}

// A FLT_MAX weight makes the metrics NaN or Inf; every comparison with NaN is
// false, so a rule written as "kl > gate" would call that model sensible.
TEST(LmMetrics, NonFiniteMetricsAreGarbageUnderAnyGate) {
  for (double bad : {std::nan(""), double(INFINITY)}) {
    LmMetrics m;
    m.kl = bad;
    m.top1 = 0.9;
    EXPECT_TRUE((GarbageRule{0.5, 0}.is_garbage(m)));
    EXPECT_TRUE((GarbageRule{0, 0}.is_garbage(m)));
    m.kl = 0.1;
    m.top1 = bad;
    EXPECT_TRUE((GarbageRule{0.5, 0.5}.is_garbage(m)));
  }
  // finite() (what lm-eval refuses on) looks at every score it prints.
  std::mt19937_64 rng(testing::fresh_seed());
  for (double LmMetrics::*field :
       {&LmMetrics::kl, &LmMetrics::kl_reverse, &LmMetrics::kl_max, &LmMetrics::top1, &LmMetrics::ppl}) {
    LmMetrics m;
    m.kl = m.kl_reverse = m.kl_max = double(rng() % 1000) / 1000;
    m.top1 = 0.5;
    m.ppl = 1 + double(rng() % 100);
    EXPECT_TRUE(m.finite());
    m.*field = rng() % 2 ? std::nan("") : -double(INFINITY);
    EXPECT_FALSE(m.finite());
    EXPECT_TRUE((GarbageRule{0, 0}.is_garbage(m)));
  }
}

}  // namespace
}  // namespace lutc

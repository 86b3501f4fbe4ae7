#include <gtest/gtest.h>

#include <random>

#include "lutc/model/sop.h"
#include "test_data.h"

namespace lutc {
namespace {

struct Brute {
  bool feasible = false;
  double error = 0;
};

Brute brute_force(const std::vector<std::vector<KnapsackItem>>& g, uint64_t budget) {
  Brute best;
  std::vector<size_t> pick(g.size(), 0);
  for (;;) {
    uint64_t bits = 0;
    double err = 0;
    for (size_t i = 0; i < g.size(); ++i) {
      bits += g[i][pick[i]].bits;
      err += g[i][pick[i]].error;
    }
    if (bits <= budget && (!best.feasible || err < best.error)) best = {true, err};
    size_t i = 0;
    while (i < g.size() && ++pick[i] == g[i].size()) pick[i++] = 0;
    if (i == g.size()) return best;
  }
}

TEST(SopKnapsack, ExactDpMatchesBruteForce) {
  std::mt19937_64 rng(testing::fresh_seed());
  for (int trial = 0; trial < 300; ++trial) {
    const size_t groups = 1 + rng() % 5;
    std::vector<std::vector<KnapsackItem>> g(groups);
    uint64_t lo = 0, hi = 0;
    for (auto& items : g) {
      const size_t n = 1 + rng() % 4;
      uint64_t mn = ~0ull, mx = 0;
      for (size_t i = 0; i < n; ++i) {
        const uint64_t bits = 10 + rng() % 200;
        items.push_back({bits, std::uniform_real_distribution<double>(0, 1)(rng)});
        mn = std::min(mn, bits);
        mx = std::max(mx, bits);
      }
      lo += mn;
      hi += mx;
    }
    const uint64_t budget = lo > 5 ? lo - 5 + rng() % (hi - lo + 10) : rng() % (hi + 1);
    const Brute b = brute_force(g, budget);
    const KnapsackResult r = solve_mckp(g, budget, 1u << 20);  // unit 1: exact
    ASSERT_EQ(r.feasible, b.feasible) << "trial " << trial;
    if (!b.feasible) continue;
    EXPECT_NEAR(r.error, b.error, 1e-12) << "trial " << trial;
    EXPECT_LE(r.bits, budget);
    EXPECT_EQ(r.gap_bound, 0.0);
  }
}

TEST(SopKnapsack, CoarseUnitsStayFeasibleAndTheGapBoundHolds) {
  std::mt19937_64 rng(testing::fresh_seed());
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::vector<KnapsackItem>> g(4);
    uint64_t hi = 0;
    for (auto& items : g) {
      uint64_t mx = 0;
      for (int i = 0; i < 4; ++i) {
        const uint64_t bits = 1000 + rng() % 9000;
        items.push_back({bits, std::uniform_real_distribution<double>(0, 1)(rng)});
        mx = std::max(mx, bits);
      }
      hi += mx;
    }
    const uint64_t budget = 4000 + rng() % (hi - 3000);
    const Brute b = brute_force(g, budget);
    const KnapsackResult r = solve_mckp(g, budget, 50);  // ~budget/50-bit units
    if (!r.feasible) continue;                           // rounding up may lose a tight solution; never the reverse
    ASSERT_TRUE(b.feasible);
    EXPECT_LE(r.bits, budget);
    EXPECT_GE(r.error, b.error - 1e-12);
    EXPECT_LE(r.error, b.error + r.gap_bound + 1e-12) << "gap bound must bound the true gap";
  }
}

TEST(SopKnapsack, InfeasibleBudgetIsReported) {
  const std::vector<std::vector<KnapsackItem>> g = {{{100, 1.0}, {50, 2.0}}, {{70, 0.5}}};
  EXPECT_FALSE(solve_mckp(g, 119).feasible);
  const KnapsackResult r = solve_mckp(g, 120);
  ASSERT_TRUE(r.feasible);
  EXPECT_EQ(r.choice[0], 1u);
  EXPECT_DOUBLE_EQ(r.error, 2.5);
}

}  // namespace
}  // namespace lutc

// Multiple-choice knapsack for --budget-bpw (docs/sop.md "Knapsack"):
// exact DP over bits in units of u. Costs rounded up give a solution that is
// always within budget; costs rounded down give a relaxation whose optimum is
// a lower bound on the true optimum, so the difference bounds the gap.
#include <algorithm>
#include <cmath>
#include <limits>

#include "lutc/model/sop.h"

namespace lutc {
namespace {

struct Dp {
  bool feasible = false;
  double error = 0;
  std::vector<unsigned> choice;
};

Dp run_dp(const std::vector<std::vector<KnapsackItem>>& groups, uint64_t capacity, uint64_t unit, bool round_up) {
  const double inf = std::numeric_limits<double>::infinity();
  const size_t C = size_t(capacity) + 1;
  std::vector<double> dp(C, 0.0), next(C);
  std::vector<std::vector<uint16_t>> pick(groups.size(), std::vector<uint16_t>(C, 0));
  for (size_t g = 0; g < groups.size(); ++g) {
    std::fill(next.begin(), next.end(), inf);
    for (size_t i = 0; i < groups[g].size(); ++i) {
      const KnapsackItem& it = groups[g][i];
      const uint64_t cost = round_up ? (it.bits + unit - 1) / unit : it.bits / unit;
      if (cost >= C) continue;
      for (size_t c = size_t(cost); c < C; ++c) {
        const double v = dp[c - cost] + it.error;
        if (v < next[c]) {
          next[c] = v;
          pick[g][c] = uint16_t(i);
        }
      }
    }
    dp.swap(next);
  }
  Dp r;
  if (!(dp[C - 1] < inf)) return r;
  r.feasible = true;
  r.error = dp[C - 1];
  r.choice.resize(groups.size());
  size_t c = C - 1;
  for (size_t g = groups.size(); g-- > 0;) {
    const unsigned i = pick[g][c];
    r.choice[g] = i;
    const uint64_t b = groups[g][i].bits;
    c -= size_t(round_up ? (b + unit - 1) / unit : b / unit);
  }
  return r;
}

}  // namespace

KnapsackResult solve_mckp(const std::vector<std::vector<KnapsackItem>>& groups, uint64_t budget_bits,
                          uint64_t max_units) {
  KnapsackResult res;
  if (groups.empty()) {
    res.feasible = true;
    return res;
  }
  for (const auto& g : groups)
    if (g.empty() || g.size() > 65535) return res;
  const uint64_t unit = std::max<uint64_t>(1, (budget_bits + max_units - 1) / std::max<uint64_t>(1, max_units));
  const uint64_t capacity = budget_bits / unit;
  const Dp up = run_dp(groups, capacity, unit, true);
  if (!up.feasible) return res;
  res.feasible = true;
  res.choice = up.choice;
  for (size_t g = 0; g < groups.size(); ++g) {
    res.bits += groups[g][res.choice[g]].bits;
    res.error += groups[g][res.choice[g]].error;
  }
  if (unit > 1) {
    const Dp down = run_dp(groups, capacity, unit, false);
    res.gap_bound = down.feasible ? std::max(0.0, res.error - down.error) : 0.0;
  }
  return res;
}

}  // namespace lutc

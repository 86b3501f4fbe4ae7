// The sorted matrix the XFP fit runs on: every (row, group) sorted and its
// permutation back to columns, the upper median, one-row storage filled by
// sort_row, prefix sums per group, and the outlier rule of docs/xfp.md
// ("the m values farthest from the row median, ties: lower group first, then
// the high side") against a plain ranking of every value. The sorts alone
// are held to std::sort in xfp_kmeans_test.
#include "xfp/xfp_sorted.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <tuple>
#include <vector>

#include "test_data.h"

namespace lutc::xfp {
namespace {

// Rows with ties (values on a coarse grid) or without, and a row of zeros.
std::vector<float> sample_rows(std::mt19937_64& rng, uint32_t rows, uint32_t cols, bool ties) {
  std::student_t_distribution<float> t(4.0f);
  std::vector<float> w(size_t(rows) * cols);
  // + 0.0f turns -0 into +0, so equal values have equal bits.
  for (float& x : w) x = (ties ? std::round(t(rng) * 3) / 4 : t(rng) * 0.02f) + 0.0f;
  if (rows > 2) std::fill(w.begin() + cols, w.begin() + 2 * cols, 0.0f);  // row 1: all zero
  return w;
}

TEST(SortedMatrix, GroupsAreSortedPermutationsOfTheirColumns) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 30; ++trial) {
    const uint32_t rows = 1 + uint32_t(rng() % 5), cols = 1 + uint32_t(rng() % 300);
    // 0 and past-cols groups mean whole rows.
    const uint32_t group_choices[] = {0, cols, cols + 7, 1 + uint32_t(rng() % cols), 128};
    const uint32_t group = group_choices[rng() % 5];
    const bool ties = rng() % 2;
    SCOPED_TRACE(std::to_string(rows) + "x" + std::to_string(cols) + " group " + std::to_string(group));
    const std::vector<float> w = sample_rows(rng, rows, cols, ties);
    const SortedMatrix m = sort_matrix(w.data(), rows, cols, group, 1 + unsigned(rng() % 3));
    const uint32_t eff = group == 0 || group > cols ? cols : group;
    ASSERT_EQ(m.group, eff);
    ASSERT_EQ(m.groups, (cols + eff - 1) / eff);
    ASSERT_EQ(m.perm.size(), size_t(rows) * cols);
    for (uint32_t r = 0; r < rows; ++r) {
      const float* row = w.data() + size_t(r) * cols;
      uint32_t covered = 0;
      for (uint32_t g = 0; g < m.groups; ++g) {
        const uint32_t c0 = g * eff, n = m.group_len(g);
        ASSERT_EQ(n, std::min(eff, cols - c0));
        // The oracle: (value, column) pairs of the group, sorted; a stable
        // sort keeps equal values in column order.
        std::vector<std::pair<float, uint32_t>> want;
        for (uint32_t c = c0; c < c0 + n; ++c) want.push_back({row[c], c});
        std::stable_sort(want.begin(), want.end(), [](auto a, auto b) { return a.first < b.first; });
        const float* v = m.group_values(r, g);
        const uint32_t* p = m.group_perm(r, g);
        for (uint32_t i = 0; i < n; ++i) {
          ASSERT_EQ(v[i], want[i].first) << "row " << r << " group " << g << " rank " << i;
          ASSERT_EQ(p[i], want[i].second) << "row " << r << " group " << g << " rank " << i;
        }
        covered += n;
      }
      ASSERT_EQ(covered, cols);
      // The upper median of the whole row.
      std::vector<float> all(row, row + cols);
      std::sort(all.begin(), all.end());
      ASSERT_EQ(m.median[r], all[cols / 2]) << "row " << r;
    }
  }
}

TEST(SortedMatrix, OneRowStorageFilledRowByRowMatchesTheWholeSort) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const uint32_t rows = 4, cols = 200;
  const std::vector<float> w = sample_rows(rng, rows, cols, true);
  for (uint32_t group : {0u, 64u}) {
    const SortedMatrix whole = sort_matrix(w.data(), rows, cols, group, 1);
    for (bool with_perm : {true, false}) {
      SCOPED_TRACE("group " + std::to_string(group) + (with_perm ? " with perm" : " values only"));
      SortedMatrix one = sorted_matrix_storage(1, cols, group, with_perm);
      // Grouped rows always keep the permutation: values alone cannot say which group a code is in.
      EXPECT_EQ(one.perm.empty(), !with_perm && group == 0);
      for (uint32_t r = 0; r < rows; ++r) {
        sort_row(w.data() + size_t(r) * cols, 0, &one);
        EXPECT_TRUE(std::equal(one.v.begin(), one.v.end(), whole.v.begin() + size_t(r) * cols));
        if (!one.perm.empty()) {
          EXPECT_TRUE(std::equal(one.perm.begin(), one.perm.end(), whole.perm.begin() + size_t(r) * cols));
        }
        EXPECT_EQ(one.median[0], whole.median[r]);
      }
    }
  }
  // Zero columns: nothing to sort, nothing touched.
  SortedMatrix empty = sorted_matrix_storage(2, 0, 0);
  EXPECT_EQ(empty.groups, 0u);
  sort_row(nullptr, 1, &empty);
}

TEST(SortedMatrix, RowRunsHoldEachGroupsPrefixSums) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const uint32_t rows = 3, cols = 150;
  const std::vector<float> w = sample_rows(rng, rows, cols, false);
  const SortedMatrix m = sort_matrix(w.data(), rows, cols, 64, 1);
  RowRuns rr;
  for (uint32_t r = 0; r < rows; ++r) {
    rr.build(m, r);  // reused storage: each build replaces the last
    ASSERT_EQ(rr.runs.size(), m.groups);
    for (uint32_t g = 0; g < m.groups; ++g) {
      const xfp::Run& run = rr.runs[g];
      ASSERT_EQ(run.n, m.group_len(g));
      EXPECT_EQ(run.v, m.group_values(r, g));
      double s = 0, q = 0;
      EXPECT_EQ(run.s1[0], 0.0);
      for (uint32_t i = 0; i < run.n; ++i) {
        s += double(run.v[i]);
        q += double(run.v[i]) * run.v[i];
        ASSERT_DOUBLE_EQ(run.s1[i + 1], s);
        ASSERT_DOUBLE_EQ(run.s2[i + 1], q);
      }
      EXPECT_NEAR(run.sum(0, run.n), s, 1e-12);
      EXPECT_GE(run.sse(0, run.n), 0.0);
    }
  }
}

// docs/xfp.md's rule spelled out: rank every value of the row by distance to
// the median (descending), then lower group, then the high side (values at
// or above the median are taken from a group's top, the rest from its
// bottom); the first `count` are the outliers.
Trims trims_by_ranking(const SortedMatrix& m, uint32_t r, uint32_t count) {
  const double med = m.median[r];
  std::vector<std::tuple<double, uint32_t, int>> all;  // (-distance, group, 0 = high / 1 = low)
  for (uint32_t g = 0; g < m.groups; ++g) {
    const float* v = m.group_values(r, g);
    for (uint32_t i = 0; i < m.group_len(g); ++i) {
      const bool high = double(v[i]) >= med;
      all.emplace_back(-(high ? double(v[i]) - med : med - double(v[i])), g, high ? 0 : 1);
    }
  }
  std::sort(all.begin(), all.end());
  Trims t;
  t.lo.assign(m.groups, 0);
  for (uint32_t g = 0; g < m.groups; ++g) t.hi.push_back(m.group_len(g));
  for (size_t i = 0; i < std::min<size_t>(count, all.size()); ++i) {
    const auto [d, g, side] = all[i];
    (side == 0 ? --t.hi[g] : ++t.lo[g]);
  }
  return t;
}

TEST(OutlierTrims, MatchTheDocumentedRanking) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 40; ++trial) {
    const uint32_t rows = 3, cols = 16 + uint32_t(rng() % 400);
    const uint32_t group = rng() % 3 ? 16 + uint32_t(rng() % 128) : 0;
    const bool ties = trial % 2;  // a coarse grid: many equal distances on both sides and across groups
    const std::vector<float> w = sample_rows(rng, rows, cols, ties);
    const SortedMatrix m = sort_matrix(w.data(), rows, cols, group, 1);
    for (uint32_t r = 0; r < rows; ++r) {
      for (uint32_t count : {0u, 1u, 2u, 5u, cols / 8, cols - 1, cols, cols + 3}) {
        SCOPED_TRACE("trial " + std::to_string(trial) + " row " + std::to_string(r) + " count " +
                     std::to_string(count) + " group " + std::to_string(group));
        Trims got;
        outlier_trims(m, r, count, &got);
        const Trims want = trims_by_ranking(m, r, count);
        ASSERT_EQ(got.lo, want.lo);
        ASSERT_EQ(got.hi, want.hi);
        uint32_t kept = 0;
        for (uint32_t g = 0; g < m.groups; ++g) {
          ASSERT_LE(got.lo[g], got.hi[g]);
          kept += got.hi[g] - got.lo[g];
        }
        ASSERT_EQ(kept, count >= cols ? 0u : cols - count);
      }
    }
  }
}

TEST(OutlierTrims, TiesGoToTheLowerGroupThenTheHighSide) {
  // Two groups of 4, median 0 (the upper median of 8 values).
  // Group 0 holds -3 (distance 3), group 1 holds +3: the lower group's value goes first.
  const std::vector<float> w = {-3, -1, 0, 0, 0, 1, 2, 3};
  const SortedMatrix m = sort_matrix(w.data(), 1, 8, 4, 1);
  ASSERT_EQ(m.median[0], 0.0f);
  Trims t;
  outlier_trims(m, 0, 1, &t);
  EXPECT_EQ(t.lo, (std::vector<uint32_t>{1, 0}));
  EXPECT_EQ(t.hi, (std::vector<uint32_t>{4, 4}));
  outlier_trims(m, 0, 2, &t);
  EXPECT_EQ(t.lo, (std::vector<uint32_t>{1, 0}));
  EXPECT_EQ(t.hi, (std::vector<uint32_t>{4, 3}));
  // Within one group, +2 and -2: the high side first.
  const std::vector<float> v = {-2, 0, 0, 2};
  const SortedMatrix one = sort_matrix(v.data(), 1, 4, 0, 1);
  outlier_trims(one, 0, 1, &t);
  EXPECT_EQ(t.lo, (std::vector<uint32_t>{0}));
  EXPECT_EQ(t.hi, (std::vector<uint32_t>{3}));
}

}  // namespace
}  // namespace lutc::xfp

// The pieces the v2a search stands on: scoring a run against a whole library
// from merged threshold ranks (held to score_range, codebook by codebook),
// grouped sorting through one row sort, and the reach bound the search uses
// to skip libraries that cannot meet a floor.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "lutc/model/fp16.h"
#include "test_data.h"
#include "xfp/xfp_fitter.h"
#include "xfp/xfp_library_scorer.h"
#include "xfp/xfp_reach_bound.h"
#include "xfp/xfp_sorted.h"
#include "xfp_test_util.h"

namespace lutc::xfp {
namespace {

std::vector<double> random_library(std::mt19937_64& rng, uint32_t count, unsigned k, bool fp16) {
  std::student_t_distribution<double> t(4.0);
  std::vector<double> lib(size_t(count) * k);
  for (auto& x : lib) x = t(rng) * 0.02;
  if (fp16)
    for (auto& x : lib) x = half_to_float(float_to_half(float(x)));
  if (count > 1) std::fill(lib.begin() + k, lib.begin() + 2 * k, 0.0);  // repeated entries
  for (size_t o = 0; o < lib.size(); o += k) std::sort(lib.begin() + o, lib.begin() + o + k);
  return lib;
}

TEST(XfpLibraryScorer, BestMatchesScoringEveryCodebookAlone) {
  std::mt19937_64 rng(testing::fresh_seed());
  std::student_t_distribution<float> t(4.0f);
  for (unsigned bits : {2u, 3u, 4u, 5u}) {
    const unsigned k = 1u << bits;
    for (bool fp16 : {true, false}) {  // refinement ranks against unrounded doubles
      const std::vector<double> lib = random_library(rng, 32, k, fp16);
      const LibraryScorer scorer(lib.data(), 32, k);
      for (uint32_t n : {1u, 5u, 77u, 128u}) {
        std::vector<float> v(n);
        for (auto& x : v) x = t(rng) * 0.02f;
        // Values on a threshold go low: put some exactly there.
        for (uint32_t i = 0; i < n; i += 7) v[i] = float(0.5 * (lib[k + 0] + lib[k + 1]));
        std::sort(v.begin(), v.end());
        std::vector<double> s1(n + 1), s2(n + 1);
        prefix_sums(v.data(), n, s1.data(), s2.data());
        const xfp::Run run{v.data(), s1.data(), s2.data(), n};
        std::vector<uint32_t> ranks(scorer.ranks_size());
        scorer.rank(run, ranks.data());
        for (uint32_t lo : {0u, n / 5}) {
          for (uint32_t hi : {n, n - n / 7}) {
            if (hi < lo) continue;
            double best_sse = std::numeric_limits<double>::infinity();
            for (uint32_t l = 0; l < 32; ++l)
              best_sse = std::min(best_sse, score_range(run, lo, hi, lib.data() + l * k, k).sse);
            Score s;
            const uint32_t id = scorer.best(run, ranks.data(), lo, hi, &s);
            const Score ref = score_range(run, lo, hi, lib.data() + id * k, k);
            const double tol = 1e-9 * (run.sumsq(lo, hi) + 1e-30);
            EXPECT_NEAR(s.sse, ref.sse, tol);
            EXPECT_NEAR(s.dot, ref.dot, tol);
            EXPECT_NEAR(s.hh, ref.hh, tol);
            EXPECT_LE(ref.sse, best_sse + tol) << "bits " << bits << " n " << n;
          }
        }
      }
    }
  }
}

TEST(XfpLibraryScorer, GroupedSortEqualsSortingEachGroup) {
  const uint64_t seed = testing::fresh_seed();
  const uint32_t rows = 5, cols = 3 * 128 + 41;
  auto w = xfp_test::llm_like(rows, cols, seed);
  for (uint32_t c = 0; c < cols; c += 9) w[c] = 0.0f;  // ties keep column order
  const SortedMatrix m = sort_matrix(w.data(), rows, cols, 128, 1);
  for (uint32_t r = 0; r < rows; ++r) {
    for (uint32_t g = 0; g < m.groups; ++g) {
      const uint32_t n = m.group_len(g), c0 = g * 128;
      std::vector<float> v(n);
      std::vector<uint32_t> p(n);
      sort_with_perm(w.data() + size_t(r) * cols + c0, n, v.data(), p.data());
      for (uint32_t i = 0; i < n; ++i) {
        ASSERT_EQ(m.group_values(r, g)[i], v[i]);
        ASSERT_EQ(m.group_perm(r, g)[i], p[i] + c0);
      }
    }
    std::vector<float> row(w.begin() + size_t(r) * cols, w.begin() + size_t(r + 1) * cols);
    std::nth_element(row.begin(), row.begin() + cols / 2, row.end());
    EXPECT_EQ(m.median[r], row[cols / 2]);
  }
}

TEST(XfpLibraryScorer, ReachBoundIsAboveEveryLibrary) {
  std::mt19937_64 rng(testing::fresh_seed());
  const uint32_t rows = 6, cols = 4 * 128;
  const auto w = xfp_test::llm_like(rows, cols, rng());
  const SortedMatrix m = sort_matrix(w.data(), rows, cols, 128, 1);
  for (unsigned bits : {2u, 3u, 4u}) {
    const unsigned k = 1u << bits;
    std::vector<uint16_t> lib(32 * k);
    const std::vector<double> d = random_library(rng, 32, k, true);
    for (size_t i = 0; i < d.size(); ++i) lib[i] = float_to_half(float(d[i]));
    V2aFitter f(m, bits, lib);
    for (uint32_t r = 0; r < rows; ++r) {
      f.load(r);
      for (uint32_t count : {0u, 3u, 40u}) {
        EXPECT_LE(f.eval(count), v2a_cosine_bound(m, r, bits, count) + 1e-12)
            << "row " << r << " bits " << bits << " outliers " << count;
      }
    }
  }
}

}  // namespace
}  // namespace lutc::xfp

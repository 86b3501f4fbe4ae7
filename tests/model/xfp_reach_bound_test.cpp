// v2a_cosine_bound against its definition computed here from plain parts:
// the row's energy, the outlier rule's trims, and each group's optimal
// k-means SSE from the O(k n^2) reference dynamic program; then the bound's
// own properties (in [0, 1], exact when every group fits its codebook,
// never lower with more outliers or more bits).
#include "xfp/xfp_reach_bound.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/kmeans1d.h"
#include "test_data.h"

namespace lutc::xfp {
namespace {

std::vector<float> heavy_rows(std::mt19937_64& rng, uint32_t rows, uint32_t cols) {
  std::student_t_distribution<float> t(4.0f);
  std::vector<float> w(size_t(rows) * cols);
  for (float& x : w) x = t(rng) * 0.02f;
  return w;
}

double bound_by_definition(const SortedMatrix& m, uint32_t r, unsigned bits, uint32_t count) {
  Trims t;
  outlier_trims(m, r, count, &t);
  double energy = 0, sse = 0;
  for (uint32_t g = 0; g < m.groups; ++g) {
    const float* v = m.group_values(r, g);
    for (uint32_t i = 0; i < m.group_len(g); ++i) energy += double(v[i]) * v[i];
    if (t.hi[g] > t.lo[g]) sse += kmeans1d_reference_sse(v + t.lo[g], t.hi[g] - t.lo[g], 1u << bits);
  }
  return energy > 0 ? std::sqrt(std::max(0.0, 1 - sse / energy)) : 1.0;
}

TEST(V2aCosineBound, EqualsItsDefinition) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const uint32_t rows = 3, cols = 64 + uint32_t(rng() % 100), group = 32;  // a short final group
  const std::vector<float> w = heavy_rows(rng, rows, cols);
  const SortedMatrix m = sort_matrix(w.data(), rows, cols, group, 1);
  for (uint32_t r = 0; r < rows; ++r)
    for (unsigned bits : {2u, 3u})
      for (uint32_t count : {0u, 1u, 4u, 11u}) {
        const double got = v2a_cosine_bound(m, r, bits, count);
        EXPECT_NEAR(got, bound_by_definition(m, r, bits, count), 1e-9)
            << "row " << r << " bits " << bits << " outliers " << count;
      }
}

TEST(V2aCosineBound, PropertiesOfAnUpperBound) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const uint32_t rows = 4, cols = 256;
  std::vector<float> w = heavy_rows(rng, rows, cols);
  std::fill(w.begin() + cols, w.begin() + 2 * cols, 0.0f);                 // row 1: dead
  for (uint32_t c = 0; c < cols; ++c) w[2 * cols + c] = float(c % 3) - 1;  // row 2: three values
  const SortedMatrix m = sort_matrix(w.data(), rows, cols, 128, 1);
  EXPECT_EQ(v2a_cosine_bound(m, 1, 2, 0), 1.0) << "a dead row has nothing to lose";
  EXPECT_EQ(v2a_cosine_bound(m, 2, 2, 0), 1.0) << "three values fit a 4-entry codebook exactly";
  for (uint32_t r : {0u, 3u}) {
    double last_bits = 0;
    for (unsigned bits = 2; bits <= 5; ++bits) {
      double last_count = 0;
      for (uint32_t count = 0; count <= 32; count += 4) {
        const double b = v2a_cosine_bound(m, r, bits, count);
        ASSERT_GE(b, 0.0);
        ASSERT_LE(b, 1.0);
        // Dropping values from a fit cannot raise its optimal SSE.
        ASSERT_GE(b, last_count - 1e-12) << "row " << r << " bits " << bits << " outliers " << count;
        last_count = b;
      }
      const double b0 = v2a_cosine_bound(m, r, bits, 0);
      ASSERT_GE(b0, last_bits - 1e-12) << "row " << r << " bits " << bits;
      last_bits = b0;
    }
    EXPECT_LT(v2a_cosine_bound(m, r, 2, 0), 1.0) << "256 distinct values do not fit 4 entries";
    EXPECT_EQ(v2a_cosine_bound(m, r, 2, cols), 1.0) << "every value an outlier: nothing left to code";
  }
}

}  // namespace
}  // namespace lutc::xfp

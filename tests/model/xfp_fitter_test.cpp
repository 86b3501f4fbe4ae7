// V2Fitter: the cosine eval() estimates from prefix sums is the cosine of
// what encode() then writes, decoded here by hand (fp16 codebook entry per
// code, plus the fp16 outlier residual); outliers are the trimmed columns,
// codebooks ascending, and every code the nearest entry (ties: lower index).
#include "xfp/xfp_fitter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "lutc/model/fp16.h"
#include "test_data.h"

namespace lutc::xfp {
namespace {

TEST(V2Fitter, EstimateIsTheCosineOfTheEncodedRow) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::student_t_distribution<float> t(4.0f);
  for (int trial = 0; trial < 6; ++trial) {
    const uint32_t rows = 3, cols = 64 + uint32_t(rng() % 300), group = trial % 2 ? 64 : 0;
    const unsigned bits = 2 + unsigned(rng() % 3), k = 1u << bits;
    std::vector<float> w(size_t(rows) * cols);
    for (float& x : w) x = t(rng) * 0.02f;
    std::fill(w.begin() + cols, w.begin() + 2 * cols, 0.0f);  // row 1: dead
    const SortedMatrix m = sort_matrix(w.data(), rows, cols, group, 1);
    V2Fitter f(m, bits, KmeansConfig{});
    for (uint32_t r = 0; r < rows; ++r) {
      f.load(r);
      const float* row = w.data() + size_t(r) * cols;
      for (uint32_t count : {0u, 3u, cols / 8}) {
        SCOPED_TRACE("trial " + std::to_string(trial) + " row " + std::to_string(r) + " bits " + std::to_string(bits) +
                     " outliers " + std::to_string(count));
        const double est = f.eval(count);
        std::vector<uint8_t> codes(cols);
        RowOutliers out;
        f.encode(row, codes.data(), &out);
        const auto& cb = f.group_cb();
        ASSERT_EQ(cb.size(), m.groups);
        std::vector<double> dense(cols);
        for (uint32_t c = 0; c < cols; ++c) {
          const uint32_t g = c / m.group;
          ASSERT_LT(codes[c], k);
          dense[c] = half_to_float(cb[g][codes[c]]);
        }
        // Outliers: ascending columns, as many as the trims removed.
        uint32_t trimmed = 0;
        for (uint32_t g = 0; g < m.groups; ++g) trimmed += m.group_len(g) - (f.trims().hi[g] - f.trims().lo[g]);
        ASSERT_EQ(out.col.size(), out.val.size());
        if (r == 1) {
          ASSERT_LE(out.col.size(), size_t(trimmed)) << "a dead row has nothing to correct";
        } else {
          ASSERT_EQ(out.col.size(), size_t(trimmed));
        }
        ASSERT_TRUE(std::is_sorted(out.col.begin(), out.col.end()));
        std::vector<bool> is_outlier(cols, false);
        std::vector<double> w_hat = dense;
        for (size_t i = 0; i < out.col.size(); ++i) {
          ASSERT_LT(out.col[i], cols);
          is_outlier[out.col[i]] = true;
          w_hat[out.col[i]] += half_to_float(out.val[i]);
        }
        // Codebooks ascending; each kept value on its nearest entry.
        for (uint32_t g = 0; g < m.groups; ++g)
          for (unsigned e = 1; e < k; ++e) ASSERT_LE(half_to_float(cb[g][e - 1]), half_to_float(cb[g][e]));
        for (uint32_t c = 0; c < cols; ++c) {
          if (is_outlier[c]) continue;
          const uint16_t* book = cb[c / m.group];
          const double d = std::fabs(double(row[c]) - dense[c]);
          for (unsigned e = 0; e < k; ++e) ASSERT_LE(d, std::fabs(double(row[c]) - half_to_float(book[e])) + 1e-12);
        }
        double dot = 0, ww = 0, hh = 0;
        for (uint32_t c = 0; c < cols; ++c) {
          dot += double(row[c]) * w_hat[c];
          ww += double(row[c]) * row[c];
          hh += w_hat[c] * w_hat[c];
        }
        if (ww == 0) {
          EXPECT_EQ(est, 1.0) << "a dead row is estimated exact";
          continue;
        }
        const double actual = hh > 0 ? dot / std::sqrt(ww * hh) : 0.0;
        EXPECT_NEAR(est, actual, 1e-4);
      }
    }
  }
}

}  // namespace
}  // namespace lutc::xfp

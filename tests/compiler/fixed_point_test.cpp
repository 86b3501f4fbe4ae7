// fixed_point_layer (fixed_point.h) against an oracle written from the docs:
// docs/numerics.md §4.2 gives the weight exponent Ew over the merged weights
// and w_int = trunc(w · 2^−Ew); docs/arch.md `core.acc_bits` gives the bound
// Σ|w_int| (outlier corrections included) × (2^(act_bits−1) − 1) per row.
#include "lutc/compiler/fixed_point.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "compiler_test_layers.h"
#include "test_data.h"

namespace lutc {
namespace {

// §4.2's definition, by frexp and the lowest set bit of the 24-bit significand.
int oracle_ew(const std::vector<float>& w) {
  bool any = false;
  int min_lsb = 0, max_msb = 0;
  for (float v : w) {
    if (v == 0) continue;
    int e;
    std::frexp(v, &e);                                                  // |v| = m · 2^e, m in [0.5, 1)
    const auto q = uint64_t(std::ldexp(std::fabs(double(v)), 24 - e));  // the significand as an integer
    const int lsb = e - 24 + __builtin_ctzll(q), msb = e - 1;
    min_lsb = any ? std::min(min_lsb, lsb) : lsb;
    max_msb = any ? std::max(max_msb, msb) : msb;
    any = true;
  }
  return any ? std::max(min_lsb, max_msb - 62) : 0;
}

// trunc(w · 2^−ew): exact in double, truncated toward zero by the conversion (§4.2's identity).
int64_t oracle_int(float w, int ew) { return int64_t(std::ldexp(double(w), -ew)); }

unsigned bit_length(unsigned __int128 v) {
  unsigned n = 0;
  for (; v; v >>= 1) ++n;
  return n;
}

TEST(FixedPointLayer, MatchesTheDocumentedExponentCorrectionsAndBound) {
  std::mt19937_64 rng(testing::fresh_seed());
  size_t with_outliers = 0;
  for (int trial = 0; trial < 30; ++trial) {
    const std::vector<Scheme> schemes = testing::compiled_schemes();
    const Scheme s = schemes[rng() % schemes.size()];
    const uint32_t rows = 1 + uint32_t(rng() % 24), cols = 8 + uint32_t(rng() % 300);
    const std::vector<float> w = testing::random_weights(rows, cols, rng);
    const QuantizedLayer l = testing::quantize_for_test(s, "blk.0.f", w.data(), rows, cols, 0);
    const HifFormat hif{4 + unsigned(rng() % 10), 2 + unsigned(rng() % 5)};
    const unsigned act_bits = rng() % 2 ? 8 : 16;
    const LayerLuts luts = lower_layer_luts(l, hif);
    const FixedPointLayer fp = fixed_point_layer(l, luts, hif, act_bits);
    const std::string what = std::string(scheme_name(s)) + " " + std::to_string(rows) + "x" + std::to_string(cols);

    const std::vector<float> merged = hif_weights(l, hif);  // W_hif with the outliers
    std::vector<float> dense(size_t(rows) * cols);
    hif_decode_rows(l, luts, hif, 0, rows, dense.data(), /*with_outliers=*/false);
    const int ew = oracle_ew(merged);
    ASSERT_EQ(fp.weight_exp, ew) << what;

    const OutlierCsr& o = l.outliers;
    ASSERT_EQ(fp.outlier_delta.size(), o.col.size()) << what;
    with_outliers += !o.col.empty();
    const unsigned __int128 amax = (unsigned __int128)((uint64_t(1) << (act_bits - 1)) - 1);
    unsigned __int128 worst = 0;
    for (uint32_t r = 0; r < rows; ++r) {
      unsigned __int128 sum = 0;
      for (uint32_t k = 0; k < cols; ++k) {
        const int64_t v = oracle_int(dense[size_t(r) * cols + k], ew);
        sum += uint64_t(v < 0 ? -v : v);
      }
      if (!o.row_ptr.empty())
        for (uint32_t j = o.row_ptr[r]; j < o.row_ptr[r + 1]; ++j) {
          const size_t at = size_t(r) * cols + o.col[j];
          // The engine decodes the dense weight and adds the correction: the merged weight's integer.
          EXPECT_EQ(oracle_int(dense[at], ew) + fp.outlier_delta[j], oracle_int(merged[at], ew))
              << what << " outlier at row " << r << ", column " << o.col[j];
          const int64_t d = fp.outlier_delta[j];
          sum += uint64_t(d < 0 ? -d : d);
        }
      worst = std::max(worst, sum);
    }
    EXPECT_EQ(fp.acc_bits_needed, bit_length(worst * amax) + 1) << what;
  }
  EXPECT_GT(with_outliers, 3u) << "too few random layers had outliers to test the corrections";
}

}  // namespace
}  // namespace lutc

// xfp.v2a: library layout, id choice, round trip, dead rows, narrow rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "lutc/model/bitpack.h"
#include "lutc/model/fp16.h"
#include "lutc/model/quantize.h"
#include "lutc/model/xfp_file.h"
#include "test_data.h"
#include "xfp_test_util.h"

namespace lutc {
namespace {

XfpOptions v2a(unsigned bits) {
  XfpOptions o;
  o.mode = Scheme::kXfpV2a;
  o.bits = bits;
  return o;
}

// SSE of the group's non-outlier values against codebook cb (nearest entry).
double group_sse(const float* row, uint32_t c0, uint32_t c1, const std::set<uint32_t>& skip, const uint16_t* cb,
                 unsigned k) {
  double e = 0;
  for (uint32_t c = c0; c < c1; ++c) {
    if (skip.count(c)) continue;
    double best = std::numeric_limits<double>::infinity();
    for (unsigned j = 0; j < k; ++j) {
      const double d = double(row[c]) - half_to_float(cb[j]);
      best = std::min(best, d * d);
    }
    e += best;
  }
  return e;
}

TEST(XfpV2a, LayoutRoundTripAndBestIdPerGroup) {
  const uint64_t seed = testing::fresh_seed();
  const uint32_t rows = 40, cols = 4 * 128 + 50;  // short last group
  const auto w = xfp_test::llm_like(rows, cols, seed);
  for (unsigned b : {2u, 4u}) {
    const unsigned k = 1u << b;
    XfpOptions o = v2a(b);
    o.outlier_fraction = 0.005;
    const QuantizedLayer l = quantize_xfp("a", Role::kAttention, w.data(), rows, cols, o);
    validate(l);
    EXPECT_EQ(l.scheme, Scheme::kXfpV2a);
    EXPECT_EQ(l.group, kV2aGroup);
    EXPECT_EQ(l.codebooks.size(), size_t(kV2aLibrarySize) * k);
    EXPECT_EQ(l.group_ids.size(), size_t(rows) * 5);
    xfp_test::expect_csr_valid(l);
    const auto wh = xfp_test::decode_checked(l);
    std::set<uint8_t> used;
    for (uint32_t r = 0; r < rows; ++r) {
      std::set<uint32_t> skip;
      if (!l.outliers.row_ptr.empty())
        for (uint32_t i = l.outliers.row_ptr[r]; i < l.outliers.row_ptr[r + 1]; ++i) skip.insert(l.outliers.col[i]);
      for (uint32_t g = 0; g < 5; ++g) {
        const uint8_t id = l.group_ids[size_t(r) * 5 + g];
        ASSERT_LT(id, kV2aLibrarySize);
        used.insert(id);
        const float* row = w.data() + size_t(r) * cols;
        const uint32_t c0 = g * 128, c1 = std::min(cols, c0 + 128);
        const double mine = group_sse(row, c0, c1, skip, l.codebooks.data() + size_t(id) * k, k);
        for (uint32_t other = 0; other < kV2aLibrarySize; ++other)
          EXPECT_LE(mine, group_sse(row, c0, c1, skip, l.codebooks.data() + size_t(other) * k, k) * (1 + 1e-9) + 1e-30)
              << "row " << r << " group " << g << " id " << int(id) << " vs " << other;
      }
    }
    EXPECT_GT(used.size(), 8u) << "the library should be used broadly";
    // Each library codebook is ascending.
    for (uint32_t l_ = 0; l_ < kV2aLibrarySize; ++l_)
      for (unsigned j = 1; j < k; ++j)
        EXPECT_LE(half_to_float(l.codebooks[l_ * k + j - 1]), half_to_float(l.codebooks[l_ * k + j]));
    const QualityStats q = measure_quality(w.data(), wh.data(), rows, cols);
    EXPECT_GT(q.sqnr_db, b == 2 ? 8.0 : 18.0);
  }
}

TEST(XfpV2a, DeadRowsUseTheZeroCodebook) {
  const uint64_t seed = testing::fresh_seed();
  const uint32_t rows = 12, cols = 256;
  auto w = xfp_test::llm_like(rows, cols, seed);
  std::fill(w.begin() + 3 * cols, w.begin() + 4 * cols, 0.0f);
  const QuantizedLayer l = quantize_xfp("z", Role::kMlp, w.data(), rows, cols, v2a(3));
  validate(l);
  const auto wh = xfp_test::decode_checked(l);
  for (uint32_t c = 0; c < cols; ++c) EXPECT_EQ(wh[3 * cols + c], 0.0f);
  EXPECT_EQ(l.params.at("dead_rows"), "1");
}

TEST(XfpV2a, RowsNarrowerThanOneGroup) {
  const uint64_t seed = testing::fresh_seed();
  const uint32_t rows = 64, cols = 64;
  const auto w = xfp_test::llm_like(rows, cols, seed);
  const QuantizedLayer l = quantize_xfp("n", Role::kAttention, w.data(), rows, cols, v2a(4));
  validate(l);
  EXPECT_EQ(l.group_ids.size(), size_t(rows));
  const auto wh = xfp_test::decode_checked(l);
  EXPECT_GT(measure_quality(w.data(), wh.data(), rows, cols).sqnr_db, 15.0);
}

TEST(XfpV2a, ThreadCountDoesNotChangeTheResult) {
  // More rows than one refinement block, fixed bits and the search.
  const uint64_t seed = testing::fresh_seed();
  const uint32_t rows = 150, cols = 384;
  const auto w = xfp_test::llm_like(rows, cols, seed, 0.02);
  for (unsigned bits : {4u, 0u}) {
    XfpOptions o = v2a(bits);
    const QuantizedLayer a = quantize_xfp("t", Role::kAttention, w.data(), rows, cols, o);
    o.threads = 3;
    const QuantizedLayer b = quantize_xfp("t", Role::kAttention, w.data(), rows, cols, o);
    EXPECT_EQ(serialize_layer(a), serialize_layer(b)) << "bits " << bits;
  }
}

}  // namespace
}  // namespace lutc

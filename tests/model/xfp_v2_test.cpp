// xfp.v2 at fixed configurations: layout, golden round trip, code choice,
// outliers, dead/tiny rows, short last group.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "lutc/model/bitpack.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/quantize.h"
#include "test_data.h"
#include "xfp_test_util.h"

namespace lutc {
namespace {

XfpOptions fixed(unsigned bits, uint32_t group = 0) {
  XfpOptions o;
  o.mode = Scheme::kXfpV2;
  o.bits = bits;
  o.group = group;
  return o;
}

// cols + group - 1 wraps in 32 bits for cols near 2^32; the count must not.
TEST(XfpV2Layout, GroupsPerRowNearTheTopOfTheColumnRange) {
  QuantizedLayer l;
  l.cols = 0xffffffffu;
  l.group = 128;
  EXPECT_EQ(l.groups_per_row(), 33554432u);
  l.group = l.cols;
  EXPECT_EQ(l.groups_per_row(), 1u);
}

TEST(XfpV2, FixedBitsRoundTripAndQualityGrowsWithBits) {
  const uint64_t seed = testing::fresh_seed();
  const uint32_t rows = 48, cols = 512;
  const auto w = xfp_test::llm_like(rows, cols, seed);
  double prev = -1;
  for (unsigned b : {2u, 3u, 4u, 5u, 6u, 8u}) {
    XfpChoice ch;
    const QuantizedLayer l = quantize_xfp("t", Role::kAttention, w.data(), rows, cols, fixed(b), &ch);
    validate(l);
    EXPECT_EQ(l.scheme, Scheme::kXfpV2);
    EXPECT_EQ(l.bits, b);
    EXPECT_EQ(l.group, cols);
    EXPECT_EQ(l.codebooks.size(), size_t(rows) << b);
    EXPECT_EQ(ch.bits, b);
    EXPECT_EQ(ch.floor, 0.0);
    EXPECT_TRUE(ch.floor_met);
    EXPECT_EQ(l.outliers.count(), 0u);
    const auto wh = xfp_test::decode_checked(l);
    const QualityStats q = measure_quality(w.data(), wh.data(), rows, cols);
    EXPECT_GT(q.sqnr_db, prev + 3.0) << "b=" << b;  // roughly 6 dB per bit
    prev = q.sqnr_db;
    // Every code is the nearest entry of its row codebook (ties to the lower).
    const unsigned k = 1u << b;
    for (uint32_t r = 0; r < rows; r += 7)
      for (uint32_t c = 0; c < cols; c += 5) {
        const uint16_t* cb = l.codebooks.data() + size_t(r) * k;
        const float x = w[size_t(r) * cols + c];
        const unsigned code = get_index(l.indices.data(), uint64_t(r) * cols + c, b);
        const double d = std::fabs(double(x) - half_to_float(cb[code]));
        for (unsigned j = 0; j < k; ++j) {
          const double dj = std::fabs(double(x) - half_to_float(cb[j]));
          ASSERT_TRUE(dj > d || (dj == d && j >= code)) << "row " << r << " col " << c;
        }
      }
  }
  EXPECT_GT(prev, 40.0);
}

TEST(XfpV2, ShortLastGroup) {
  const uint64_t seed = testing::fresh_seed();
  const uint32_t rows = 9, cols = 300, group = 128;  // groups of 128, 128, 44
  const auto w = xfp_test::llm_like(rows, cols, seed);
  const QuantizedLayer l = quantize_xfp("g", Role::kMlp, w.data(), rows, cols, fixed(3, group));
  validate(l);
  EXPECT_EQ(l.group, group);
  EXPECT_EQ(l.groups_per_row(), 3u);
  EXPECT_EQ(l.codebooks.size(), size_t(rows) * 3 * 8);
  const auto wh = xfp_test::decode_checked(l);
  // Each group only uses its own codebook: the last group's decoded values
  // are entries of the third codebook of the row.
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t c = 256; c < cols; ++c) {
      const uint16_t* cb = l.codebooks.data() + (size_t(r) * 3 + 2) * 8;
      const float v = wh[size_t(r) * cols + c];
      EXPECT_TRUE(std::any_of(cb, cb + 8, [&](uint16_t h) { return half_to_float(h) == v; }));
    }
  // Per-group codebooks fit better than one per row.
  const QuantizedLayer whole = quantize_xfp("g", Role::kMlp, w.data(), rows, cols, fixed(3));
  const auto wh2 = xfp_test::decode_checked(whole);
  EXPECT_GT(measure_quality(w.data(), wh.data(), rows, cols).sqnr_db,
            measure_quality(w.data(), wh2.data(), rows, cols).sqnr_db);
}

TEST(XfpV2, FixedOutlierFractionTakesValuesFarthestFromMedian) {
  const uint64_t seed = testing::fresh_seed();
  const uint32_t rows = 16, cols = 400;
  auto w = xfp_test::llm_like(rows, cols, seed);
  XfpOptions o = fixed(4);
  o.outlier_fraction = 0.01;  // 4 per row
  const QuantizedLayer l = quantize_xfp("o", Role::kAttention, w.data(), rows, cols, o);
  validate(l);
  xfp_test::expect_csr_valid(l);
  ASSERT_EQ(l.outliers.count(), size_t(rows) * 4);
  const auto wh = xfp_test::decode_checked(l);
  for (uint32_t r = 0; r < rows; ++r) {
    const float* row = w.data() + size_t(r) * cols;
    std::vector<float> s(row, row + cols);
    std::nth_element(s.begin(), s.begin() + cols / 2, s.end());
    const double med = s[cols / 2];
    std::vector<double> dist(cols);
    for (uint32_t c = 0; c < cols; ++c) dist[c] = std::fabs(row[c] - med);
    std::vector<double> sorted = dist;
    std::sort(sorted.rbegin(), sorted.rend());
    for (uint32_t i = l.outliers.row_ptr[r]; i < l.outliers.row_ptr[r + 1]; ++i) {
      const uint32_t c = l.outliers.col[i];
      EXPECT_GE(dist[c], sorted[3]) << "row " << r << " col " << c;
      // The residual restores the value to fp16-residual precision.
      EXPECT_NEAR(wh[size_t(r) * cols + c], row[c], std::fabs(row[c]) * 1e-3 + 1e-7);
    }
  }
}

TEST(XfpV2, DeadRowsAreZerosAndTinyRowsAreCounted) {
  const uint64_t seed = testing::fresh_seed();
  const uint32_t rows = 6, cols = 256;
  auto w = xfp_test::llm_like(rows, cols, seed);
  std::fill(w.begin(), w.begin() + cols, 0.0f);                                // all zero
  for (uint32_t c = 0; c < cols; ++c) w[cols + c] = (c % 2 ? 1 : -1) * 1e-8f;  // below 2^-25
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0, 2e-6f);
  for (uint32_t c = 0; c < cols; ++c) w[2 * cols + c] = nd(rng);  // subnormal fp16 range
  for (bool search : {false, true}) {
    XfpOptions o = fixed(search ? 0 : 4);
    XfpChoice ch;
    const QuantizedLayer l = quantize_xfp("d", Role::kAttention, w.data(), rows, cols, o, &ch);
    validate(l);
    EXPECT_EQ(l.params.at("dead_rows"), "2");
    EXPECT_EQ(l.params.at("tiny_rows"), "1");
    const auto wh = xfp_test::decode_checked(l);
    for (uint32_t c = 0; c < 2 * cols; ++c) EXPECT_EQ(wh[c], 0.0f);
    const unsigned k = 1u << l.bits;
    for (unsigned j = 0; j < 2 * k; ++j) EXPECT_EQ(l.codebooks[j], 0u);
    const QualityStats q = measure_quality(w.data(), wh.data(), rows, cols, ch.floor);
    EXPECT_EQ(q.dead_rows, 2u);
    EXPECT_GT(row_cosine(w.data() + 2 * cols, wh.data() + 2 * cols, cols), 0.9);
    if (search) {
      EXPECT_TRUE(ch.floor_met);
    }
  }
}

// A non-finite weight is a bad-input error naming the first one (row-major),
// wherever it sits in its group of 128.
TEST(XfpV2, NonFiniteWeightIsNamedByRowAndColumn) {
  const uint64_t seed = testing::fresh_seed();
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0, 0.02f);
  for (int trial = 0; trial < 8; ++trial) {
    const uint32_t rows = 2 + rng() % 6, cols = 1 + rng() % 300;
    std::vector<float> w(size_t(rows) * cols);
    for (float& x : w) x = nd(rng);
    const size_t at = rng() % w.size();
    const float bad[] = {NAN, INFINITY, -INFINITY};
    w[at] = bad[trial % 3];
    if (at + 1 < w.size()) w[at + 1 + rng() % (w.size() - at - 1)] = NAN;  // a later one
    XfpOptions o;
    o.bits = 4;
    try {
      quantize_xfp("layer.w", Role::kAttention, w.data(), rows, cols, o);
      ADD_FAILURE() << "no error, seed " << seed;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput);
      const std::string want = "row " + std::to_string(at / cols) + ", column " + std::to_string(at % cols);
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what() << " seed " << seed;
      EXPECT_NE(std::string(e.what()).find("layer.w"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace lutc

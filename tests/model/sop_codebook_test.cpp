#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "lutc/model/element_formats.h"
#include "lutc/model/fp16.h"
#include "lutc/model/sop.h"

namespace lutc {
namespace {

std::vector<double> values(SopCodebook c) {
  std::vector<double> v;
  for (uint16_t h : sop_fixed_codebook(c)) v.push_back(half_to_float(h));
  return v;
}

TEST(SopCodebook, SizesMatchIndexWidth) {
  for (SopCodebook c : {SopCodebook::kNf4, SopCodebook::kBof4, SopCodebook::kSplit87, SopCodebook::kSh4,
                        SopCodebook::kE2m1, SopCodebook::kE2m3, SopCodebook::kInt4, SopCodebook::kInt6}) {
    const auto v = values(c);
    EXPECT_EQ(v.size(), size_t(1) << sop_codebook_bits(c)) << sop_codebook_name(c);
    for (double x : v) EXPECT_TRUE(std::isfinite(x));
  }
  EXPECT_TRUE(sop_fixed_codebook(SopCodebook::kDd4).empty());
}

TEST(SopCodebook, Nf4IsTheQloraTable) {
  const auto v = values(SopCodebook::kNf4);
  for (unsigned i = 0; i < 16; ++i) EXPECT_EQ(v[i], round_to_half(kNf4Levels[i]));
}

TEST(SopCodebook, Split87HasEightLevelsOnOneSideSevenOnTheOtherAndZero) {
  const auto v = values(SopCodebook::kSplit87);
  const auto pos = std::count_if(v.begin(), v.end(), [](double x) { return x > 0; });
  const auto neg = std::count_if(v.begin(), v.end(), [](double x) { return x < 0; });
  const auto zero = std::count(v.begin(), v.end(), 0.0);
  EXPECT_EQ(pos, 8);
  EXPECT_EQ(neg, 7);
  EXPECT_EQ(zero, 1);
  EXPECT_EQ(*std::max_element(v.begin(), v.end()), 1.0);  // both tails reach the block max
  EXPECT_EQ(*std::min_element(v.begin(), v.end()), -1.0);
  // Each side is a uniform grid with its own step (1/8 above, 1/7 below).
  for (int i = 1; i <= 8; ++i) EXPECT_NEAR(v[7 + i], i / 8.0, 1e-3);
  for (int i = 1; i <= 7; ++i) EXPECT_NEAR(v[7 - i], -i / 7.0, 1e-3);
}

TEST(SopCodebook, Sh4IsSymmetricMidRiseWithoutZero) {
  const auto v = values(SopCodebook::kSh4);
  for (size_t i = 0; i < 16; ++i) {
    EXPECT_NE(v[i], 0.0);
    EXPECT_EQ(v[i], -v[15 - i]);
    if (i) {
      EXPECT_NEAR(v[i] - v[i - 1], 2.0 / 15, 1e-3);
    }
  }
}

TEST(SopCodebook, MinifloatGridsAreOcpE2m1AndE2m3) {
  const auto f4 = values(SopCodebook::kE2m1);
  const double pos4[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(f4[i], pos4[i]);
    EXPECT_EQ(f4[8 + i], -pos4[i]);
  }
  const auto f6 = values(SopCodebook::kE2m3);
  EXPECT_EQ(f6[1], 0.125);  // subnormal step 2^-3
  EXPECT_EQ(f6[8], 1.0);    // first normal
  EXPECT_EQ(f6[31], 7.5);   // largest
  EXPECT_EQ(f6[63], -7.5);
  for (int i = 1; i < 32; ++i) EXPECT_GT(f6[i], f6[i - 1]);
}

TEST(SopCodebook, IntGridsAreTwosComplement) {
  const auto i4 = values(SopCodebook::kInt4), i6 = values(SopCodebook::kInt6);
  for (int c = 0; c < 16; ++c) EXPECT_EQ(i4[c], c < 8 ? c : c - 16);
  for (int c = 0; c < 64; ++c) EXPECT_EQ(i6[c], c < 32 ? c : c - 64);
}

TEST(SopCodebook, Bof4TableIsWhatTheDerivationProduces) {
  // Fewer blocks than the table's 2^20 for speed: the levels move by < 3e-3.
  const auto d = derive_bof4(16, 1 << 17, 7);
  const auto v = values(SopCodebook::kBof4);
  ASSERT_EQ(d.size(), 16u);
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(v[i], d[i], 3e-3) << i;
  EXPECT_EQ(v[0], -1.0);
  EXPECT_EQ(v[7], 0.0);
  EXPECT_EQ(v[15], 1.0);
  for (int i = 1; i < 16; ++i) EXPECT_GT(v[i], v[i - 1]);
}

TEST(SopCodebook, LloydRecoversClusterCentres) {
  std::vector<float> x;
  for (int i = 0; i < 1000; ++i) {
    x.push_back(-0.5f + 0.01f * ((i % 5) - 2));
    x.push_back(0.25f + 0.01f * ((i % 3) - 1));
  }
  const auto c = lloyd_levels(x, {}, 4, {-0.9, -0.1, 0.1, 0.9}, {-1.0, 1.0}, 50);
  EXPECT_NEAR(c[1], -0.5, 2e-3);
  EXPECT_NEAR(c[2], 0.25, 2e-3);
  EXPECT_EQ(c[0], -1.0);
  EXPECT_EQ(c[3], 1.0);
}

}  // namespace
}  // namespace lutc

// The weight rule, both forms, against the golden GEMV's weight_to_int on
// fresh random fp32 weights and exponents, and at the 63-bit edge.
#include "lutc/spec/weight_int.h"

#include <cmath>
#include <cstring>
#include <random>

#include <gtest/gtest.h>

#include "lutc/model/golden.h"

namespace lutc {
namespace {

// w = (-1)^neg * mant * 2^e with a 24-bit integer significand.
struct Parts {
  bool negative;
  uint64_t mant;
  int exp;
};
Parts parts_of(float w) {
  int e;
  const float m = std::frexp(std::fabs(w), &e);
  return {w < 0, uint64_t(std::ldexp(m, 24)), e - 24};
}

// A random finite fp32 and an Ew at most 62 below its msb (the golden GEMV's
// Ew guarantees that for every weight of the matrix).
TEST(WeightInt, BothFormsMatchWeightToIntOnRandomWeights) {
  std::mt19937_64 rng(std::random_device{}());
  for (int i = 0; i < 200000; ++i) {
    uint32_t bits = uint32_t(rng());
    if (((bits >> 23) & 255) == 255) bits &= ~(1u << 30);  // not Inf/NaN
    float w;
    std::memcpy(&w, &bits, 4);
    if (w == 0) continue;
    const int msb = std::ilogb(w);
    const int ew = msb - 62 + int(rng() % 90);  // msb - Ew in [-27, 62]
    const int64_t want = weight_to_int(w, ew);
    const Parts p = parts_of(w);
    const WeightInt got = weight_int_from_parts(p.negative, p.mant, p.exp - ew);
    ASSERT_TRUE(got.fits) << w << " at Ew " << ew;
    ASSERT_EQ(got.value, want) << w << " at Ew " << ew;
    ASSERT_EQ(weight_int_from_scaled(double(w) * std::ldexp(1.0, -ew)), want) << w << " at Ew " << ew;
  }
}

TEST(WeightInt, MagnitudesUpTo2To63MinusOneFitAndNoMore) {
  // msb at bit 62: fits (the largest weight of a wide-range matrix lands there).
  WeightInt w = weight_int_from_parts(false, 1, 62);
  EXPECT_TRUE(w.fits);
  EXPECT_EQ(w.value, int64_t(1) << 62);
  w = weight_int_from_parts(true, (uint64_t(1) << 24) - 1, 39);  // 2^63 - 2^39
  EXPECT_TRUE(w.fits);
  EXPECT_EQ(w.value, -int64_t((uint64_t(1) << 63) - (uint64_t(1) << 39)));
  EXPECT_EQ(w.value, weight_to_int(-std::ldexp(float((1 << 24) - 1), 39), 0));
  // msb at bit 63: does not.
  EXPECT_FALSE(weight_int_from_parts(false, 1, 63).fits);
  EXPECT_FALSE(weight_int_from_parts(false, 3, 62).fits);
  EXPECT_FALSE(weight_int_from_parts(false, 1, 1000).fits);
  EXPECT_EQ(weight_int_from_scaled(0x1p63), 0);
  EXPECT_EQ(weight_int_from_scaled(-0x1p63), 0);
  EXPECT_EQ(weight_int_from_scaled(std::nan("")), 0);
  EXPECT_EQ(weight_int_from_scaled(0x1p62), int64_t(1) << 62);
}

TEST(WeightInt, RightShiftsTruncateTowardZero) {
  EXPECT_EQ(weight_int_from_parts(false, 7, -1).value, 3);
  EXPECT_EQ(weight_int_from_parts(true, 7, -1).value, -3);
  EXPECT_EQ(weight_int_from_parts(true, 1, -1).value, 0);
  EXPECT_EQ(weight_int_from_parts(false, ~uint64_t(0), -64).value, 0);
  EXPECT_EQ(weight_int_from_parts(false, 0, 500).value, 0);
  EXPECT_TRUE(weight_int_from_parts(false, 0, 500).fits);
  EXPECT_EQ(weight_int_from_scaled(-2.75), -2);
}

}  // namespace
}  // namespace lutc

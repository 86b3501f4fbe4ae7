// The block scale decode against fp16's value for all 65536 bit patterns.
#include "lutc/spec/block_scale.h"

#include <cmath>

#include <gtest/gtest.h>

#include "lutc/model/fp16.h"

namespace lutc {
namespace {

TEST(BlockScale, EveryFp16PatternDecodesToItsValue) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const BlockScale s = decode_block_scale(uint16_t(h));
    const float want = half_to_float(uint16_t(h));
    ASSERT_EQ(s.finite, std::isfinite(want)) << h;
    if (!s.finite) continue;
    ASSERT_LT(s.mant, 2048u) << h;
    const double got = (s.negative ? -1.0 : 1.0) * std::ldexp(double(s.mant), s.exp);
    ASSERT_EQ(got, double(want)) << h;
    ASSERT_EQ(s.negative, std::signbit(want)) << h;
  }
}

TEST(BlockScale, DefaultIsOne) {
  const BlockScale s;
  EXPECT_FALSE(s.negative);
  EXPECT_EQ(s.mant, 1u);
  EXPECT_EQ(s.exp, 0);
}

}  // namespace
}  // namespace lutc

#include <gtest/gtest.h>

#include <cmath>

#include "lutc/model/sop_scale.h"

namespace lutc {
namespace {

// The UE4M{M} value written out from the definition, independently of ue_value.
double reference_ue(unsigned code, unsigned M) {
  const unsigned e = code >> M, m = code & ((1u << M) - 1u);
  if (e == 0) return m * std::pow(2.0, 1.0 - 7 - M);
  return (1.0 + m / std::pow(2.0, M)) * std::pow(2.0, double(e) - 7);
}

TEST(SopScale, Ue4m4KeyValues) {
  EXPECT_EQ(ue_value(0, 4), 0.0f);
  EXPECT_EQ(ue_value(1, 4), std::ldexp(1.0f, -10));  // smallest subnormal
  EXPECT_EQ(ue_value(16, 4), std::ldexp(1.0f, -6));  // smallest normal
  EXPECT_EQ(ue_value(255, 4), 496.0f);               // 1.9375 * 2^8
  EXPECT_EQ(ue_value(7 << 4, 4), 1.0f);              // bias 7
  EXPECT_EQ(ue_value(127, 3), 480.0f);
}

TEST(SopScale, ExhaustiveDecodeEncode) {
  for (unsigned M = 2; M <= 4; ++M) {
    const unsigned n = ue_code_count(M);
    for (unsigned c = 0; c < n; ++c) {
      const double v = ue_value(c, M);
      ASSERT_EQ(v, reference_ue(c, M)) << "M=" << M << " code " << c;
      if (c) {
        ASSERT_GT(v, double(ue_value(c - 1, M))) << "codes must be increasing";
      }
      // Every value encodes back to its code in each rounding mode.
      ASSERT_EQ(ue_round_down(v, M), c);
      ASSERT_EQ(ue_round_up(v, M), c);
      ASSERT_EQ(ue_round_nearest(v, M), c);
      if (c + 1 < n) {
        const double next = ue_value(c + 1, M);
        const double mid = 0.5 * (v + next);
        const double inside = v + 0.25 * (next - v);
        ASSERT_EQ(ue_round_down(inside, M), c);
        ASSERT_EQ(ue_round_up(inside, M), c + 1);
        ASSERT_EQ(ue_round_nearest(inside, M), c);
        ASSERT_EQ(ue_round_nearest(next - 0.25 * (next - v), M), c + 1);
        ASSERT_EQ(ue_round_nearest(mid, M), (c & 1u) ? c + 1 : c) << "ties go to the even code";
      }
    }
    EXPECT_EQ(ue_round_up(1e9, M), n - 1) << "saturates";
    EXPECT_EQ(ue_round_nearest(1e9, M), n - 1);
    EXPECT_EQ(ue_round_down(-1.0, M), 0u);
    EXPECT_EQ(ue_round_up(0.0, M), 0u);
  }
}

TEST(SopScale, PackUnpackEveryField) {
  for (unsigned M = 2; M <= 4; ++M)
    for (int paired = 0; paired < 2; ++paired)
      for (int sgn = 0; sgn < 2; ++sgn) {
        const unsigned width = 4 + M + paired + sgn;
        for (unsigned code = 0; code < (1u << width); ++code) {
          const SopScaleCode c = unpack_sop_scale(uint16_t(code), M, paired, sgn);
          ASSERT_LT(c.magnitude, ue_code_count(M));
          ASSERT_EQ(pack_sop_scale(c, M, paired, sgn), code);
          if (paired) {
            ASSERT_EQ(c.sel, (code >> (4 + M)) & 1u);
          }
          if (sgn) {
            ASSERT_EQ(c.sign, code >> (width - 1));
          }
        }
      }
}

}  // namespace
}  // namespace lutc

#include <gtest/gtest.h>

#include "lutc/model/error.h"
#include "lutc/model/sop.h"

namespace lutc {
namespace {

TEST(SopFormat, HeadlinePointsHaveTheDocumentedBpw) {
  EXPECT_DOUBLE_EQ(parse_sop_format("e2m3.ue4m4.b16").nominal_bpw(), 6.5);
  EXPECT_DOUBLE_EQ(parse_sop_format("e2m1.ue4m3.b16").nominal_bpw(), 4.4375);
  EXPECT_DOUBLE_EQ(parse_sop_format("pair(nf4,dd4).ue4m3.b16").nominal_bpw(), 4.5);
  EXPECT_DOUBLE_EQ(parse_sop_format("pair(nf4,dd4).sue4m4.b16").nominal_bpw(), 4.625);
  EXPECT_DOUBLE_EQ(parse_sop_format("e2m1.ue4m4.b32").nominal_bpw(), 4.25);
  EXPECT_DOUBLE_EQ(parse_sop_format("nf4.ue4m4.b8").nominal_bpw(), 5.0);
}

TEST(SopFormat, CanonicalNamesRoundTrip) {
  for (const SopFormat& f : sop_named_points()) {
    const SopFormat g = parse_sop_format(f.name());
    EXPECT_EQ(g.name(), f.name());
    EXPECT_EQ(g.a, f.a);
    EXPECT_EQ(g.b, f.b);
    EXPECT_EQ(g.paired, f.paired);
    EXPECT_EQ(g.block, f.block);
  }
  const SopFormat f = parse_sop_format("pair(dd4,nf4).sue4m3.b32+o0.5");
  EXPECT_EQ(f.a, SopCodebook::kNf4);  // the learned codebook is always b
  EXPECT_EQ(f.b, SopCodebook::kDd4);
  EXPECT_TRUE(f.scale_signed);
  EXPECT_EQ(f.scale_code_bits(), 9u);
  EXPECT_DOUBLE_EQ(f.outlier_pct, 0.5);
  EXPECT_EQ(f.name(), "pair(nf4,dd4).sue4m3.b32+o0.5");
}

TEST(SopFormat, BadStringsAreUsageErrorsNamingTheString) {
  for (const char* s :
       {"", "fp7.ue4m4.b16", "e2m3.ue4m4.b12", "e2m3.ue4m4.b0", "e2m3.ue4m4.b128", "e2m3.ue5m4.b16", "e2m3.ue4m5.b16",
        "e2m3.ue4m4", "e2m3.ue4m4.b16.x", "pair(nf4).ue4m4.b16", "pair(nf4,nf4).ue4m4.b16", "pair(nf4,e2m3).ue4m4.b16",
        "pair(nf4,dd4.ue4m4.b16", "e2m3.ue4m4.b16+x", "e2m3.ue4m4.b16+o-1", "e2m3.ue4m4.bx16"}) {
    try {
      parse_sop_format(s);
      ADD_FAILURE() << "accepted '" << s << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kUsage) << s;
      EXPECT_NE(std::string(e.what()).find("'" + std::string(s) + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(SopFormat, NamedPointsSpanTheRateDistortionRange) {
  double lo = 99, hi = 0;
  for (const SopFormat& f : sop_named_points()) {
    lo = std::min(lo, f.nominal_bpw());
    hi = std::max(hi, f.nominal_bpw());
  }
  EXPECT_DOUBLE_EQ(lo, 4.25);
  EXPECT_DOUBLE_EQ(hi, 6.5);
}

}  // namespace
}  // namespace lutc

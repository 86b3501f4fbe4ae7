// layer.cpp's names and the validate() checks the scheme-table and golden
// decode tests leave out: sop's own fields, names, shapes past 2^48, v2's
// group range, int4's signed zero point, and the outlier CSR's framing.
#include "lutc/model/layer.h"

#include <gtest/gtest.h>

#include <iterator>
#include <random>
#include <set>
#include <string>

#include "layer_samples.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "test_data.h"

namespace lutc {
namespace {

// validate's message ("" when it accepts the layer); every refusal is kBadInput.
std::string refusal(const QuantizedLayer& l, const std::string& file = "w.xfp") {
  try {
    validate(l, file);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
    return e.what();
  }
  return "";
}

#define EXPECT_REFUSED(layer, needle)                                                           \
  do {                                                                                          \
    const std::string why_ = refusal(layer);                                                    \
    EXPECT_NE(why_.find(needle), std::string::npos) << "wanted '" << (needle) << "': " << why_; \
  } while (0)

TEST(LayerNames, SchemeNamesListsEveryParsableName) {
  const std::string all = scheme_names();
  size_t listed = 0;
  for (size_t start = 0;;) {
    const size_t comma = all.find(", ", start);
    const std::string name = all.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    Scheme s{};
    EXPECT_TRUE(parse_scheme(name, &s)) << name;
    EXPECT_EQ(scheme_name(s), name);
    ++listed;
    if (comma == std::string::npos) break;
    start = comma + 2;
  }
  EXPECT_EQ(listed, std::size(kSchemeTraits));
  EXPECT_FALSE(parse_scheme("", nullptr));
  EXPECT_FALSE(parse_scheme("XFP.V2", nullptr)) << "names are case-sensitive";
  EXPECT_FALSE(parse_scheme("xfp", nullptr)) << "'xfp' is a CLI choice, not a stored scheme";
  EXPECT_TRUE(parse_scheme("sop", nullptr)) << "a null out only asks whether it parses";
  EXPECT_STREQ(scheme_name(Scheme(0)), "unknown");
  EXPECT_STREQ(scheme_name(Scheme(250)), "unknown");
}

TEST(LayerNames, IndexWidthsAreExactlyTheDocumentedSet) {
  const std::set<unsigned> ok = {2, 3, 4, 5, 6, 8};
  for (unsigned b = 0; b < 300; ++b) EXPECT_EQ(valid_index_bits(b), ok.count(b) == 1) << b;
}

TEST(LayerShape, GroupsPerRowRoundsUpWithoutWrapping) {
  QuantizedLayer l;
  l.cols = 201;
  l.group = 0;
  EXPECT_EQ(l.groups_per_row(), 0u);
  l.group = 64;
  EXPECT_EQ(l.groups_per_row(), 4u);
  l.group = 201;
  EXPECT_EQ(l.groups_per_row(), 1u);
  l.group = 67;
  EXPECT_EQ(l.groups_per_row(), 3u);
  l.cols = 0xFFFFFFFFu;  // cols + group - 1 would wrap in 32 bits
  l.group = 128;
  EXPECT_EQ(l.groups_per_row(), (uint64_t(0xFFFFFFFFu) + 127) / 128);
  l.rows = 0xFFFFFFFFu;
  EXPECT_EQ(l.elements(), uint64_t(0xFFFFFFFFu) * 0xFFFFFFFFu);
}

TEST(Validate, NameShapeAndSchemeCode) {
  std::mt19937_64 rng(testing::fresh_seed());
  const QuantizedLayer good = testing::random_layer(Scheme::kXfpV2, rng);
  ASSERT_EQ(refusal(good), "");
  QuantizedLayer l = good;
  l.name.clear();
  EXPECT_REFUSED(l, "empty name");
  EXPECT_REFUSED(l, "w.xfp");
  l = good;
  l.scheme = Scheme(99);
  EXPECT_REFUSED(l, "unknown scheme code 99");
  l = good;
  l.cols = 0;
  EXPECT_REFUSED(l, "empty shape");
  // 2^24 x (2^24 + 1) elements: refused on the count, before any size is used.
  l = good;
  l.rows = 1u << 24;
  l.cols = (1u << 24) + 1;
  l.group = l.cols;
  EXPECT_REFUSED(l, "2^48");
  // Without a file the message still names the layer.
  l = good;
  l.bits = 7;
  try {
    validate(l);
    ADD_FAILURE() << "accepted bits 7";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("layer '" + good.name + "'", 0), 0u) << e.what();
  }
}

TEST(Validate, V2GroupMustBeWithinTheRow) {
  std::mt19937_64 rng(testing::fresh_seed());
  testing::SampleOptions o;
  o.cols = 100;
  QuantizedLayer l = testing::random_layer(Scheme::kXfpV2, rng, o);
  for (uint32_t g : {0u, 101u}) {
    l.group = g;
    EXPECT_REFUSED(l, "group " + std::to_string(g) + " not in 1..cols");
  }
}

TEST(Validate, Int4ZeroPointMayNotBeNegativeZero) {
  std::mt19937_64 rng(testing::fresh_seed());
  QuantizedLayer l = testing::random_layer(Scheme::kInt4G128, rng);
  l.group_zeros[0] = 0x0000;
  EXPECT_EQ(refusal(l), "");
  l.group_zeros[0] = 0x8000;  // -0.0: compares equal to 0 but is a different stored value
  EXPECT_REFUSED(l, "group_zeros[0] is not an integer 0..15");
  l.group_zeros[0] = float_to_half(15.0f);
  EXPECT_EQ(refusal(l), "");
  l.group_zeros[0] = 0x7e00;  // NaN
  EXPECT_REFUSED(l, "group_zeros[0]");
  l.group_zeros[0] = 0;
  l.group_scales.back() = 0xfc00;  // -inf
  EXPECT_REFUSED(l, "group_scales[" + std::to_string(l.group_scales.size() - 1) + "] is not finite");
}

TEST(Validate, OutlierCsrFraming) {
  std::mt19937_64 rng(testing::fresh_seed());
  testing::SampleOptions o;
  o.rows = 3;
  o.cols = 40;
  o.outlier_fraction = 0;
  const QuantizedLayer good = testing::random_layer(Scheme::kXfpV2, rng, o);
  ASSERT_TRUE(good.outliers.row_ptr.empty());
  QuantizedLayer l = good;
  l.outliers.col = {1};
  l.outliers.val = {0x3c00};
  EXPECT_REFUSED(l, "outlier entries without row_ptr");
  l.outliers.row_ptr = {1, 1, 1, 1};
  EXPECT_REFUSED(l, "outlier row_ptr[0] is 1, not 0");
  l.outliers.row_ptr = {0, 1, 1, 1};
  EXPECT_EQ(refusal(l), "");
  l.outliers.val = {0x7c00};
  EXPECT_REFUSED(l, "outlier val[0] is not finite");
  l.outliers.val = {0x3c00};
  l.outliers.row_ptr = {0, 0, 0, 0};
  EXPECT_REFUSED(l, "outlier col has 1 entries, expected 0");
  // An all-zero row_ptr with no entries is a valid (empty) CSR.
  l.outliers.col.clear();
  l.outliers.val.clear();
  EXPECT_EQ(refusal(l), "");
}

TEST(Validate, SopFields) {
  std::mt19937_64 rng(testing::fresh_seed());
  testing::SampleOptions o;
  o.rows = 4;
  o.cols = 100;
  QuantizedLayer good = testing::random_any_layer(Scheme::kSop, rng, o);
  ASSERT_EQ(refusal(good), "");

  for (uint32_t b : {0u, 4u, 24u, 128u}) {
    QuantizedLayer l = good;
    l.group = b;
    l.block_scales.assign(size_t(l.rows) * l.groups_per_row(), 0);
    EXPECT_REFUSED(l, "block size " + std::to_string(b) + " not in {8, 16, 32, 64}");
  }
  for (uint8_t m : {uint8_t(0), uint8_t(1), uint8_t(5)}) {
    QuantizedLayer l = good;
    l.sop_scale_mant_bits = m;
    EXPECT_REFUSED(l, "scale mantissa bits " + std::to_string(m) + " not in 2..4");
  }
  for (int e : {-101, 101}) {
    QuantizedLayer l = good;
    l.layer_scale_exp = e;
    EXPECT_REFUSED(l, "layer_scale_exp " + std::to_string(e) + " outside [-100, 100]");
  }
  for (int e : {-100, 100}) {
    QuantizedLayer l = good;
    l.layer_scale_exp = e;
    EXPECT_EQ(refusal(l), "") << e;
  }
  // Paired layers hold two codebooks, unpaired one.
  {
    QuantizedLayer l = good;
    l.sop_paired = !l.sop_paired;
    l.block_scales.assign(l.block_scales.size(), 0);
    const size_t want = (l.sop_paired ? 2u : 1u) << l.bits;
    EXPECT_REFUSED(
        l, "codebooks has " + std::to_string(good.codebooks.size()) + " entries, expected " + std::to_string(want));
  }
  // A scale code one bit too wide.
  {
    QuantizedLayer l = good;
    const unsigned w = l.sop_scale_code_bits();
    l.block_scales[1] = uint16_t(1u << w);
    EXPECT_REFUSED(l, "block_scales[1] = " + std::to_string(1u << w) + " does not fit " + std::to_string(w) + " bits");
    l.block_scales[1] = uint16_t((1u << w) - 1);
    EXPECT_EQ(refusal(l), "");
  }
}

TEST(Validate, SopScaleFieldsOnOtherSchemes) {
  std::mt19937_64 rng(testing::fresh_seed());
  for (Scheme s : testing::kDecodableSchemes) {
    const QuantizedLayer good = testing::random_layer(s, rng);
    QuantizedLayer l = good;
    l.sop_scale_mant_bits = 3;
    EXPECT_REFUSED(l, "SOP scale format fields are only used by sop");
    l = good;
    l.sop_paired = true;
    EXPECT_REFUSED(l, "SOP scale format fields are only used by sop");
    l = good;
    l.sop_scale_signed = true;
    EXPECT_REFUSED(l, "SOP scale format fields are only used by sop");
  }
}

TEST(Validate, Fp8LayerScaleEdges) {
  std::mt19937_64 rng(testing::fresh_seed());
  QuantizedLayer l = testing::random_layer(Scheme::kFp8E4M3, rng);
  for (int e : {-160, 119}) {
    l.layer_scale_exp = e;
    EXPECT_EQ(refusal(l), "") << e;
  }
  l.layer_scale_exp = -161;
  EXPECT_REFUSED(l, "layer_scale_exp -161 outside [-160, 119]");
  l.layer_scale_exp = 0;
  l.indices[0] = 0xff;  // the negative NaN code
  EXPECT_REFUSED(l, "element 0 holds the E4M3 NaN code");
}

}  // namespace
}  // namespace lutc

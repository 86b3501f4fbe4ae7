#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "layer_samples.h"
#include "lutc/model/element_formats.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/golden.h"
#include "test_data.h"

namespace lutc {
namespace {

using testing::random_layer;

unsigned code_at(const QuantizedLayer& l, uint64_t i) {
  unsigned v = 0;
  for (unsigned b = 0; b < l.bits; ++b) {
    const uint64_t j = i * l.bits + b;
    v |= unsigned((l.indices[j / 8] >> (j % 8)) & 1u) << b;
  }
  return v;
}

// E4M3 from its definition, in double.
double e4m3_reference(unsigned q) {
  const int s = q >> 7, e = (q >> 3) & 15, m = q & 7;
  const double mag = e == 0 ? std::ldexp(m / 8.0, -6) : std::ldexp(1.0 + m / 8.0, e - 7);
  return s ? -mag : mag;
}

// The decode formulas of docs/numerics.md, written out element by element.
std::vector<float> reference_decode(const QuantizedLayer& l) {
  std::vector<float> w(size_t(l.elements()));
  const uint32_t gpr = l.groups_per_row(), entries = 1u << l.bits;
  for (uint32_t r = 0; r < l.rows; ++r) {
    for (uint32_t k = 0; k < l.cols; ++k) {
      const unsigned q = code_at(l, uint64_t(r) * l.cols + k);
      const size_t g = gpr ? size_t(r) * gpr + k / l.group : 0;
      float v = 0;
      switch (l.scheme) {
        case Scheme::kXfpV2: v = half_to_float(l.codebooks[g * entries + q]); break;
        case Scheme::kXfpV2a: v = half_to_float(l.codebooks[l.group_ids[g] * entries + q]); break;
        case Scheme::kInt4G128: {
          // Exact in double, and exact in fp32 by the significand argument.
          const double d =
              double(half_to_float(l.group_scales[g])) * (double(q) - double(half_to_float(l.group_zeros[g])));
          v = float(d);
          EXPECT_EQ(double(v), d);
          break;
        }
        case Scheme::kNf4B64: {
          const double d = double(half_to_float(l.codebooks[q])) * half_to_float(l.group_scales[g]);
          v = float(d);
          EXPECT_EQ(double(v), d);
          break;
        }
        case Scheme::kFp8E4M3:
          v = float(std::ldexp(e4m3_reference(q), l.layer_scale_exp));  // one rounding (double exact)
          break;
        default: break;
      }
      w[size_t(r) * l.cols + k] = v;
    }
    if (l.outliers.row_ptr.empty()) continue;
    for (uint32_t i = l.outliers.row_ptr[r]; i < l.outliers.row_ptr[r + 1]; ++i) {
      float& x = w[size_t(r) * l.cols + l.outliers.col[i]];
      x = x + half_to_float(l.outliers.val[i]);
    }
  }
  return w;
}

void expect_bits_equal(const std::vector<float>& a, const std::vector<float>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_EQ(std::memcmp(&a[i], &b[i], 4), 0) << what << " element " << i << ": " << a[i] << " vs " << b[i];
}

TEST(GoldenDecode, EverySchemeMatchesTheFormula) {
  std::mt19937_64 rng(testing::fresh_seed());
  for (int trial = 0; trial < 40; ++trial) {
    for (Scheme s : testing::kDecodableSchemes) {
      testing::SampleOptions o;
      o.outlier_fraction = trial % 2 ? 0.1 : 0.0;
      QuantizedLayer l = random_layer(s, rng, o);
      if (s == Scheme::kFp8E4M3 && trial % 4 == 3) l.layer_scale_exp = -150 + int(rng() % 20);
      if (s == Scheme::kFp8E4M3 && trial % 4 == 1) l.layer_scale_exp = 100 + int(rng() % 20);
      validate(l);
      std::vector<float> got(size_t(l.elements()), std::nanf(""));
      golden_decode(l, got.data());
      expect_bits_equal(got, reference_decode(l), scheme_name(s));
      // Any row range decodes to the same bits as the whole.
      const uint32_t r0 = uint32_t(rng() % l.rows), n = uint32_t(rng() % (l.rows - r0 + 1));
      std::vector<float> part(size_t(n) * l.cols);
      golden_decode_rows(l, r0, n, part.data());
      expect_bits_equal(part,
                        std::vector<float>(got.begin() + size_t(r0) * l.cols, got.begin() + size_t(r0 + n) * l.cols),
                        "row range");
    }
  }
}

TEST(GoldenDecode, E4m3Grid) {
  EXPECT_EQ(e4m3_to_float(0x7e), 448.0f);
  EXPECT_EQ(e4m3_to_float(0xfe), -448.0f);
  EXPECT_EQ(e4m3_to_float(0x08), 0x1p-6f);
  EXPECT_EQ(e4m3_to_float(0x01), 0x1p-9f);
  EXPECT_EQ(e4m3_to_float(0x38), 1.0f);
  EXPECT_TRUE(std::isnan(e4m3_to_float(0x7f)));
  EXPECT_TRUE(std::isnan(e4m3_to_float(0xff)));
  for (unsigned q = 0; q < 256; ++q) {
    if (e4m3_is_nan(uint8_t(q))) continue;
    EXPECT_EQ(double(e4m3_to_float(uint8_t(q))), e4m3_reference(q)) << q;
    const uint8_t back = double_to_e4m3(e4m3_reference(q));
    EXPECT_EQ(back, q == 0x80 ? 0 : q) << q;  // -0 encodes as +0
  }
  // Ties go to the even code; past 448 saturates.
  for (unsigned q = 0; q < 0x7e; ++q) {
    const double mid = (e4m3_reference(q) + e4m3_reference(q + 1)) / 2;
    EXPECT_EQ(double_to_e4m3(mid), (q & 1) ? q + 1 : q) << q;
    const unsigned even = (q & 1) ? q + 1 : q;
    EXPECT_EQ(double_to_e4m3(-mid), even ? 0x80 | even : 0) << q;
  }
  EXPECT_EQ(double_to_e4m3(1e9), 0x7e);
  EXPECT_EQ(double_to_e4m3(-470), 0xfe);
}

TEST(GoldenDecode, Nf4TableIsThePublishedLevels) {
  EXPECT_EQ(nf4_level_fp16(0), float_to_half(-1.0f));
  EXPECT_EQ(nf4_level_fp16(7), 0);
  EXPECT_EQ(nf4_level_fp16(15), float_to_half(1.0f));
  for (unsigned i = 1; i < 16; ++i) EXPECT_LT(half_to_float(nf4_level_fp16(i - 1)), half_to_float(nf4_level_fp16(i)));
}

// A layer whose fields do not fit its scheme (here an xfp.v2 layout relabelled
// as sop) must be refused, not decoded from the wrong sections.
TEST(GoldenDecode, MismatchedLayoutsAndBadRangesThrow) {
  std::mt19937_64 rng(testing::fresh_seed());
  QuantizedLayer l = random_layer(Scheme::kXfpV2, rng);
  std::vector<float> out(size_t(l.elements()) + l.cols);
  EXPECT_THROW(golden_decode_rows(l, l.rows, 1, out.data()), Error);
  QuantizedLayer bad = l;
  bad.codebooks.pop_back();
  EXPECT_THROW(golden_decode(bad, out.data()), Error);
  l.scheme = Scheme::kSop;
  try {
    golden_decode(l, out.data());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("sop"), std::string::npos);
  }
}

TEST(GoldenDecode, ValidateCatchesEachInvariant) {
  std::mt19937_64 rng(testing::fresh_seed());
  auto rejects = [](const QuantizedLayer& l, const char* needle) {
    try {
      validate(l, "f.xfp");
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput);
      const std::string m = e.what();
      EXPECT_NE(m.find(needle), std::string::npos) << m;
      EXPECT_NE(m.find("f.xfp"), std::string::npos) << m;
      EXPECT_NE(m.find(l.name), std::string::npos) << m;
    }
  };
  testing::SampleOptions o;
  o.rows = 3;
  o.cols = 201;
  o.outlier_fraction = 0.05;
  const QuantizedLayer v2 = random_layer(Scheme::kXfpV2, rng, o);
  const QuantizedLayer v2a = random_layer(Scheme::kXfpV2a, rng, o);
  const QuantizedLayer i4 = random_layer(Scheme::kInt4G128, rng, o);
  const QuantizedLayer n4 = random_layer(Scheme::kNf4B64, rng, o);
  const QuantizedLayer f8 = random_layer(Scheme::kFp8E4M3, rng, o);
  for (const auto* l : {&v2, &v2a, &i4, &n4, &f8}) EXPECT_NO_THROW(validate(*l));

  QuantizedLayer l = v2;
  l.indices.push_back(0);
  rejects(l, "indices");
  l = v2;
  l.bits = 7;
  rejects(l, "index width 7");
  l = v2;
  l.codebooks.pop_back();
  rejects(l, "codebooks");
  l = v2;
  l.codebooks[0] = 0x7c00;
  rejects(l, "not finite");
  l = v2a;
  l.group_ids[0] = 32;
  rejects(l, "group_ids[0] = 32");
  l = v2a;
  l.group = 64;
  rejects(l, "group must be 128");
  l = i4;
  l.bits = 3;
  l.indices.assign(packed_bytes(l.elements(), 3), 0);
  rejects(l, "bits must be 4");
  l = i4;
  l.group_zeros[0] = float_to_half(16.0f);
  rejects(l, "group_zeros[0]");
  l = i4;
  l.group_zeros[0] = float_to_half(2.5f);
  rejects(l, "group_zeros[0]");
  l = n4;
  l.codebooks[3] ^= 1;
  rejects(l, "NF4");
  l = f8;
  l.indices[5] = 0x7f;
  rejects(l, "NaN");
  l = f8;
  l.layer_scale_exp = 120;
  rejects(l, "layer_scale_exp");
  l = v2;
  l.layer_scale_exp = 1;
  rejects(l, "layer_scale_exp");
  l = v2;
  l.outliers.row_ptr.pop_back();
  rejects(l, "row_ptr");
  l = v2;
  l.outliers.row_ptr = {0, 2, 1, 2};
  l.outliers.col = {0, 1};
  l.outliers.val = {1, 1};
  rejects(l, "decreases");
  l = v2;
  l.outliers.row_ptr = {0, 2, 2, 2};
  l.outliers.col = {5, 5};
  l.outliers.val = {1, 1};
  rejects(l, "strictly increasing");
  l.outliers.col = {5, 201};
  rejects(l, ">= cols");
  l.outliers.col = {5, 6};
  l.outliers.val = {1};
  rejects(l, "outlier val");
  l = v2;
  l.rows = 0;
  rejects(l, "empty shape");
  l = v2;
  if (l.elements() * l.bits % 8) {
    l.indices.back() |= 0x80;
    rejects(l, "padding");
  }
}

}  // namespace
}  // namespace lutc

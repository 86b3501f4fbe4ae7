#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compiler_test_layers.h"
#include "lutc/compiler/hif.h"
#include "lutc/compiler/layer_luts.h"
#include "lutc/model/fp16.h"
#include "test_data.h"

namespace lutc {
namespace {

std::vector<float> all_finite_fp16() {
  std::vector<float> v;
  for (uint32_t h = 0; h < 65536; ++h)
    if ((h & 0x7c00) != 0x7c00) v.push_back(half_to_float(uint16_t(h)));
  return v;
}

TEST(Hif, LosslessSettingReproducesEveryFiniteFp16InOneLut) {
  const std::vector<float> v = all_finite_fp16();
  ASSERT_EQ(v.size(), 63488u);
  const HifFormat f{11, 5};
  const HifBook b = encode_hif_book(v.data(), v.size(), f);
  for (size_t i = 0; i < v.size(); ++i)
    ASSERT_EQ(hif_value(f, b.words[i], b.base), double(v[i])) << "fp16 value " << v[i];
}

TEST(Hif, LosslessSettingReproducesEveryFp16AloneAndWithItsNeighbours) {
  const std::vector<float> v = all_finite_fp16();
  const HifFormat f{11, 5};
  for (size_t i = 0; i < v.size(); ++i) {
    const float book[3] = {v[i], v[(i + 1) % v.size()], 65504.0f};  // with the largest magnitude in the LUT
    const HifBook b = encode_hif_book(book, 3, f);
    for (int j = 0; j < 3; ++j) ASSERT_EQ(hif_value(f, b.words[j], b.base), double(book[j])) << book[j];
  }
}

TEST(Hif, WordLayoutIsSignShiftMantissa) {
  const HifFormat f{11, 5};
  // 3 * 2^-4 at base 0: the largest shift keeping mant < 2^11 is 13 -> mant 3 * 2^9 = 1536, shift 13.
  const uint32_t w = encode_hif_word(f, -0.1875, 0);
  EXPECT_EQ(w, (1u << 16) | (13u << 11) | 1536u);
  EXPECT_EQ(hif_value(f, w, 0), -0.1875);
  EXPECT_EQ(encode_hif_word(f, 0.0, 0), 0u);
  EXPECT_EQ(encode_hif_word(f, -0.0, 0), 0u);
}

TEST(Hif, SaturatesWhenTheBaseIsTooFine) {
  const HifFormat f{4, 2};
  EXPECT_EQ(hif_value(f, encode_hif_word(f, 1000.0, 0), 0), 15.0);
}

double book_sse(const std::vector<float>& v, const HifFormat& f) {
  const HifBook b = encode_hif_book(v.data(), v.size(), f);
  double e = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const double d = hif_value(f, b.words[i], b.base) - v[i];
    e += d * d;
  }
  return e;
}

TEST(Hif, LossyErrorNeverGrowsWithMoreMantissaBits) {
  std::mt19937_64 rng(testing::fresh_seed());
  std::normal_distribution<float> n(0, 0.03f);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<float> v(16);
    for (auto& x : v) x = round_to_half(n(rng));
    for (unsigned s : {2u, 3u, 5u}) {
      double prev = INFINITY;
      for (unsigned m = 2; m <= 13; ++m) {
        const double e = book_sse(v, HifFormat{m, s});
        EXPECT_LE(e, prev) << "mant " << m << " shift " << s;
        prev = e;
      }
      EXPECT_EQ(book_sse(v, HifFormat{11, 5}), 0.0);
    }
  }
}

TEST(Hif, LayerErrorReportIsZeroWhenLosslessAndShrinksWithMantissa) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::vector<float> w = testing::random_weights(16, 256, rng);
  for (Scheme s : testing::compiled_schemes()) {
    const QuantizedLayer l = testing::quantize_for_test(s, "l", w.data(), 16, 256, 64);
    const HifFormat lossless{11, 5};
    const HifErrorReport r = measure_hif_error(l, lower_layer_luts(l, lossless), lossless);
    EXPECT_TRUE(r.lossless()) << scheme_name(s);
    EXPECT_EQ(r.max_abs_error, 0.0) << scheme_name(s);
    double prev_sqnr = -INFINITY;
    for (unsigned m : {3u, 5u, 8u, 11u}) {
      const HifFormat f{m, 5};
      const HifErrorReport e = measure_hif_error(l, lower_layer_luts(l, f), f);
      EXPECT_GE(e.sqnr_db, prev_sqnr - 1e-9) << scheme_name(s) << " mant " << m;
      prev_sqnr = e.sqnr_db;
    }
  }
}

}  // namespace
}  // namespace lutc

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "layer_samples.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/golden.h"
#include "test_data.h"

namespace lutc {
namespace {

using u128 = unsigned __int128;

bool same_bits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

// Reference rounding of acc * 2^e to fp32, written bit by bit: collect the
// binary digits, keep up to 24 from the leading one (fewer below 2^-126), and
// decide with the first dropped digit and the OR of the rest.
float reference_round(__int128 acc, int e) {
  if (acc == 0) return 0.0f;
  const bool neg = acc < 0;
  u128 mag = neg ? u128(0) - u128(acc) : u128(acc);
  std::vector<int> digit;  // most significant first
  for (int i = 127; i >= 0; --i) digit.push_back(int((mag >> i) & 1));
  int lead = 0;
  while (digit[lead] == 0) ++lead;
  const int top = (127 - lead) + e;  // exponent of the leading digit
  // Digit at index i has exponent (127 - i) + e; keep those with exponent >= unit.
  const int unit = std::max(top - 23, -149);
  double q = 0;
  bool round_bit = false, sticky = false;
  for (int i = 0; i < 128; ++i) {
    const int ex = (127 - i) + e;
    if (ex >= unit) {
      q = q * 2 + digit[i];
    } else if (ex == unit - 1) {
      round_bit = digit[i];
    } else {
      sticky = sticky || digit[i];
    }
  }
  // Digits below 2^e do not exist (they are zero); q counts units of 2^unit,
  // but if e > unit the loop never reached 2^unit: scale q up.
  if (e > unit) q = std::ldexp(q, e - unit);
  if (round_bit && (sticky || std::fmod(q, 2.0) == 1.0)) q += 1;
  const double v = std::ldexp(q, unit);  // exact in double while finite in fp32
  const float f = v >= 0x1p128 ? INFINITY : float(v);
  return neg ? -f : f;
}

TEST(GoldenGemv, Int128RoundingMatchesReferences) {
  std::mt19937_64 rng(testing::fresh_seed());
  auto random_acc = [&]() -> __int128 {
    const int len = int(rng() % 127) + 1;
    u128 v = (u128(rng()) << 64) | rng();
    v &= (len == 128 ? ~u128(0) : (u128(1) << len) - 1);
    v |= u128(1) << (len - 1);
    return (rng() & 1) ? -__int128(v) : __int128(v);
  };
  for (int i = 0; i < 300000; ++i) {
    __int128 acc = random_acc();
    const int mode = i % 4;
    if (mode == 1) {
      // An exact tie: odd or even kept part, then a single 1 right below it.
      const int keep_shift = int(rng() % 90) + 1;
      const u128 kept = (u128(rng()) & 0xffffff) | 0x800000;
      acc = __int128((kept << keep_shift) | (u128(1) << (keep_shift - 1)));
    }
    int e = int(rng() % 400) - 250;  // covers subnormals, zero and overflow
    if (mode == 2) e = -149 - int(rng() % 40);
    const float got = scaled_int128_to_float(acc, e);
    const float want = reference_round(acc, e);
    ASSERT_TRUE(same_bits(got, want)) << "e " << e << " got " << got << " want " << want;
    const u128 mag = acc < 0 ? u128(0) - u128(acc) : u128(acc);
    if (mag < (u128(1) << 64)) {
      // long double holds 64-bit integers exactly; one rounding to float.
      const float ld = float(std::ldexp((long double)acc, e));
      ASSERT_TRUE(same_bits(got, ld)) << "e " << e << " got " << got << " long double " << ld;
    }
  }
  EXPECT_TRUE(same_bits(scaled_int128_to_float(1, -150), 0.0f));       // tie to even 0
  EXPECT_TRUE(same_bits(scaled_int128_to_float(3, -150), 0x1p-148f));  // tie to even 2
  EXPECT_TRUE(same_bits(scaled_int128_to_float(1, -149), 0x1p-149f));
  EXPECT_TRUE(same_bits(scaled_int128_to_float((1 << 24) - 1, 104), 0x1.fffffep127f));
  EXPECT_TRUE(std::isinf(scaled_int128_to_float((1 << 25) - 1, 104)));  // rounds up to 2^128
  EXPECT_TRUE(same_bits(scaled_int128_to_float(-(1 << 24) - 1, 0), -16777216.0f));
  EXPECT_TRUE(same_bits(scaled_int128_to_float(-(1 << 24) - 3, 0), -16777220.0f));
}

std::vector<float> gaussian(std::mt19937_64& rng, size_t n, double sigma) {
  std::normal_distribution<double> d(0, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = float(d(rng));
  return v;
}

TEST(GoldenGemv, OrderOfColumnsAndBatchDoesNotMatter) {
  std::mt19937_64 rng(testing::fresh_seed());
  for (unsigned bits : {8u, 16u}) {
    const uint32_t rows = 23, cols = 517, batch = 6;
    auto w = gaussian(rng, size_t(rows) * cols, 0.05);
    auto x = gaussian(rng, size_t(batch) * cols, 3.0);
    for (size_t i = 0; i < w.size(); i += 37) w[i] *= 1000;  // spread of magnitudes
    GemvConfig cfg;
    cfg.act_bits = bits;
    std::vector<float> y(size_t(batch) * rows);
    golden_gemv_weights(w.data(), rows, cols, x.data(), batch, cfg, y.data());

    std::vector<uint32_t> pk(cols), pm(batch);
    std::iota(pk.begin(), pk.end(), 0);
    std::iota(pm.begin(), pm.end(), 0);
    std::shuffle(pk.begin(), pk.end(), rng);
    std::shuffle(pm.begin(), pm.end(), rng);
    std::vector<float> w2(w.size()), x2(x.size()), y2(y.size(), std::nanf(""));
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t k = 0; k < cols; ++k) w2[size_t(r) * cols + k] = w[size_t(r) * cols + pk[k]];
    for (uint32_t m = 0; m < batch; ++m)
      for (uint32_t k = 0; k < cols; ++k) x2[size_t(m) * cols + k] = x[size_t(pm[m]) * cols + pk[k]];
    golden_gemv_weights(w2.data(), rows, cols, x2.data(), batch, cfg, y2.data());
    for (uint32_t m = 0; m < batch; ++m)
      for (uint32_t r = 0; r < rows; ++r)
        ASSERT_TRUE(same_bits(y2[size_t(m) * rows + r], y[size_t(pm[m]) * rows + r]))
            << bits << " m " << m << " r " << r;
  }
}

// |y - sum w*x| <= sum |w| * (|x| 2^-9 + q) + |y| 2^-24, where 2^-9 |x| bounds
// the bf16 rounding, q = 2^(ea-1) the activation rounding (2^ea where the
// 8-bit clamp can add half a step), and 2^-24 the final fp32 rounding. The
// weights here need no truncation (dynamic range < 62 bits).
TEST(GoldenGemv, WithinTheDerivedBoundOfAnFp64Reference) {
  std::mt19937_64 rng(testing::fresh_seed());
  for (unsigned bits : {8u, 16u}) {
    const uint32_t rows = 40, cols = 300, batch = 4;
    const auto w = gaussian(rng, size_t(rows) * cols, 0.02);
    const auto x = gaussian(rng, size_t(batch) * cols, 1.5);
    GemvConfig cfg;
    cfg.act_bits = bits;
    std::vector<float> y(size_t(batch) * rows);
    golden_gemv_weights(w.data(), rows, cols, x.data(), batch, cfg, y.data());
    double worst = 0;
    for (uint32_t m = 0; m < batch; ++m) {
      std::vector<int32_t> a(cols);
      const int ea = quantize_activations(x.data() + size_t(m) * cols, cols, bits, a.data());
      const double q = std::ldexp(1.0, ea - (bits == 8 ? 0 : 1));
      for (uint32_t r = 0; r < rows; ++r) {
        long double ref = 0, bound = 0;
        for (uint32_t k = 0; k < cols; ++k) {
          const double wk = w[size_t(r) * cols + k], xk = x[size_t(m) * cols + k];
          ref += (long double)wk * xk;
          bound += std::fabs(wk) * (std::fabs(xk) * 0x1p-9 + q);
        }
        const double got = y[size_t(m) * rows + r];
        const double err = std::fabs(got - double(ref));
        ASSERT_LE(err, double(bound) + std::fabs(got) * 0x1p-24) << bits << " m " << m << " r " << r;
        worst = std::max(worst, err / double(bound));
      }
    }
    // The bound is tight enough to mean something: errors use a real part of it.
    EXPECT_GT(worst, 0.003) << bits;
  }
}

TEST(GoldenGemv, SmallIntegersAreExact) {
  std::mt19937_64 rng(testing::fresh_seed());
  const uint32_t rows = 9, cols = 64, batch = 3;
  std::vector<float> w(rows * cols), x(batch * cols);
  for (auto& v : w) v = float(int(rng() % 31) - 15);
  for (auto& v : x) v = float(int(rng() % 255) - 127);  // |x| < 128: 8 bits suffice
  for (unsigned bits : {8u, 16u}) {
    GemvConfig cfg;
    cfg.act_bits = bits;
    std::vector<float> y(batch * rows);
    golden_gemv_weights(w.data(), rows, cols, x.data(), batch, cfg, y.data());
    for (uint32_t m = 0; m < batch; ++m)
      for (uint32_t r = 0; r < rows; ++r) {
        long long s = 0;
        for (uint32_t k = 0; k < cols; ++k) s += (long long)w[r * cols + k] * (long long)x[m * cols + k];
        // amax may be < 64 in a vector; 8-bit activations are then still exact integers.
        EXPECT_EQ(y[m * rows + r], float(s)) << bits;
      }
  }
}

TEST(GoldenGemv, ActivationQuantizationRules) {
  int32_t a[4];
  const float x8[] = {255.0f, -1.0f, 0.75f, 0.0f};
  // amax 255 < 2^8: ea = 8 - 7 = 1; 255/2 = 127.5 rounds to 128, clamps to 127.
  EXPECT_EQ(quantize_activations(x8, 4, 8, a), 1);
  EXPECT_EQ(a[0], 127);
  EXPECT_EQ(a[1], 0);  // -0.5 ties to even 0
  EXPECT_EQ(a[2], 0);  // 0.375 rounds to 0
  EXPECT_EQ(a[3], 0);
  const float x16[] = {1.0f, 3.0f, -0.5f, 1e-30f};
  EXPECT_EQ(quantize_activations(x16, 4, 16, a), 2 - 15);
  EXPECT_EQ(a[0], 8192);
  EXPECT_EQ(a[1], 24576);
  EXPECT_EQ(a[2], -4096);
  EXPECT_EQ(a[3], 0);
  const float zeros[] = {0.0f, -0.0f};
  EXPECT_EQ(quantize_activations(zeros, 2, 16, a), 0);
  EXPECT_EQ(a[0], 0);
  // bf16 rounding happens first: 1 + 2^-9 is a tie that rounds to 1.
  const float tie[] = {1.0f + 0x1p-9f, 1.0f};
  quantize_activations(tie, 2, 16, a);
  EXPECT_EQ(a[0], a[1]);
}

TEST(GoldenGemv, WeightsBeyond62BitsOfRangeTruncate) {
  const float w[] = {1.0f, 0x1p-70f, -0x1.8p-62f};
  WeightExponent e;
  for (float v : w) e.add(v);
  EXPECT_EQ(e.ew(), -62);
  EXPECT_EQ(weight_to_int(w[0], -62), int64_t(1) << 62);
  EXPECT_EQ(weight_to_int(w[1], -62), 0);
  EXPECT_EQ(weight_to_int(w[2], -62), -1);  // -1.5 truncates toward zero
  WeightExponent f;
  f.add(0.375f);  // 3 * 2^-3
  f.add(-8.0f);
  EXPECT_EQ(f.ew(), -3);
  EXPECT_EQ(weight_to_int(0.375f, -3), 3);
  EXPECT_EQ(weight_to_int(-8.0f, -3), -64);
}

TEST(GoldenGemv, RejectsBadInput) {
  const float w[] = {1, 2, 3, 4};
  float y[2];
  GemvConfig cfg;
  for (float bad : {NAN, INFINITY, 3.4e38f}) {
    const float x[] = {1, bad};
    try {
      golden_gemv_weights(w, 2, 2, x, 1, cfg, y);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput);
    }
  }
  const float x[] = {1, 1};
  const float wn[] = {1, NAN, 3, 4};
  EXPECT_THROW(golden_gemv_weights(wn, 2, 2, x, 1, cfg, y), Error);
  cfg.act_bits = 12;
  EXPECT_THROW(golden_gemv_weights(w, 2, 2, x, 1, cfg, y), Error);
}

TEST(GoldenGemv, LayerGemvIsDecodeThenGemv) {
  std::mt19937_64 rng(testing::fresh_seed());
  for (Scheme s : testing::kDecodableSchemes) {
    testing::SampleOptions o;
    o.rows = 1 + uint32_t(rng() % 40);
    o.cols = 1 + uint32_t(rng() % 400);
    QuantizedLayer l = testing::random_layer(s, rng, o);
    // Keep weights in a range where the products do not overflow fp32.
    for (auto* v : {&l.codebooks, &l.group_scales})
      if (s != Scheme::kNf4B64 || v == &l.group_scales)
        for (auto& h : *v) h = float_to_half(float(std::normal_distribution<double>(0, 1)(rng)));
    for (auto& h : l.outliers.val) h = float_to_half(float(std::normal_distribution<double>(0, 1)(rng)));
    const uint32_t batch = 3;
    const auto x = gaussian(rng, size_t(batch) * l.cols, 1.0);
    std::vector<float> w(size_t(l.elements()));
    golden_decode(l, w.data());
    for (unsigned bits : {8u, 16u}) {
      GemvConfig cfg;
      cfg.act_bits = bits;
      std::vector<float> y1(size_t(batch) * l.rows), y2(y1.size(), std::nanf(""));
      golden_gemv_weights(w.data(), l.rows, l.cols, x.data(), batch, cfg, y1.data());
      golden_gemv(l, x.data(), batch, cfg, y2.data());
      for (size_t i = 0; i < y1.size(); ++i) ASSERT_TRUE(same_bits(y1[i], y2[i])) << scheme_name(s);
    }
  }
}

}  // namespace
}  // namespace lutc

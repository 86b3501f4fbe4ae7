#include "lutc/model/fp16.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "test_data.h"

namespace lutc {
namespace {

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// binary16 value from its fields, in double.
double half_value(uint16_t h) {
  const int e = (h >> 10) & 31, m = h & 1023;
  const double mag = e == 0 ? std::ldexp(double(m), -24) : std::ldexp(double(1024 + m), e - 25);
  return (h & 0x8000) ? -mag : mag;
}

// Nearest binary16 by search over the positive grid, ties to even; the value
// 65536 stands for infinity (the next step after 65504), as IEEE rounding does.
uint16_t reference_to_half(float f) {
  static const std::vector<double> grid = [] {
    std::vector<double> g;
    for (uint32_t h = 0; h <= 0x7c00; ++h) g.push_back(h == 0x7c00 ? 65536.0 : half_value(uint16_t(h)));
    return g;
  }();
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  const double a = std::fabs(double(f));
  if (a >= 65536.0) return uint16_t(sign | 0x7c00);
  const size_t hi = size_t(std::upper_bound(grid.begin(), grid.end(), a) - grid.begin());
  const size_t lo = hi - 1;
  const double dlo = a - grid[lo], dhi = grid[hi] - a;  // exact: both are multiples of ulp(f)
  size_t pick = dlo < dhi ? lo : dhi < dlo ? hi : ((lo & 1) ? hi : lo);
  return uint16_t(sign | pick);
}

TEST(Fp16, ExhaustiveHalfToFloatToHalf) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = half_to_float(uint16_t(h));
    const bool nan = ((h >> 10) & 31) == 31 && (h & 1023);
    if (nan) {
      ASSERT_TRUE(std::isnan(f)) << h;
      ASSERT_TRUE(std::isnan(half_to_float(float_to_half(f)))) << h;
      continue;
    }
    if (((h >> 10) & 31) == 31) {
      ASSERT_TRUE(std::isinf(f));
    } else {
      ASSERT_EQ(double(f), half_value(uint16_t(h))) << h;
    }
    ASSERT_EQ(float_to_half(f), h) << h;
  }
}

TEST(Fp16, RoundToNearestEvenMatchesReference) {
  std::mt19937_64 rng(testing::fresh_seed());
  std::vector<float> probes;
  // Every midpoint between adjacent halves (the ties) and its neighbours.
  for (uint32_t h = 0; h < 0x7bff; h += 1) {
    const double mid = (half_value(uint16_t(h)) + half_value(uint16_t(h + 1))) / 2;
    const float m = float(mid);
    ASSERT_EQ(double(m), mid);
    probes.push_back(m);
    probes.push_back(std::nextafter(m, 0.0f));
    probes.push_back(std::nextafter(m, 1e9f));
  }
  probes.push_back(65519.99609375f);
  probes.push_back(65520.0f);                  // tie between max and "inf": rounds to inf
  probes.push_back(2.98023223876953125e-08f);  // 2^-25: tie with 0
  probes.push_back(std::nextafter(2.98023223876953125e-08f, 1.0f));
  for (int i = 0; i < 2000000; ++i) {
    // Random floats concentrated on the half range, plus any bit pattern.
    const float f =
        (i & 1) ? float_of(uint32_t(rng())) : std::ldexp(float(rng() >> 40) / float(1 << 24), int(rng() % 46) - 28);
    if (!std::isnan(f)) probes.push_back(f);
  }
  for (float p : probes) {
    for (float f : {p, -p}) ASSERT_EQ(float_to_half(f), reference_to_half(f)) << f;
  }
}

TEST(Fp16, Bf16RoundToNearestEven) {
  std::mt19937_64 rng(testing::fresh_seed());
  for (int i = 0; i < 2000000; ++i) {
    uint32_t u = uint32_t(rng());
    if (i % 4 == 0) u = (u & 0xffff0000u) | 0x8000u;  // exact ties
    const float f = float_of(u);
    const uint16_t b = float_to_bf16(f);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(bf16_to_float(b)));
      continue;
    }
    // Reference: the two bf16 neighbours by truncation, compared in double.
    const uint32_t lo = u & 0xffff0000u;
    const double flo = double(float_of(lo));
    const uint32_t hi_bits = lo + 0x10000u;
    const double fhi =
        (hi_bits & 0x7fffffffu) >= 0x7f800000u ? std::copysign(std::ldexp(1.0, 128), f) : double(float_of(hi_bits));
    const double dlo = std::fabs(double(f) - flo), dhi = std::fabs(fhi - double(f));
    uint16_t want = uint16_t(lo >> 16);
    if (dhi < dlo || (dhi == dlo && (want & 1))) want = uint16_t(hi_bits >> 16);
    if (std::isinf(f)) want = uint16_t(u >> 16);
    ASSERT_EQ(b, want) << std::hex << u;
    ASSERT_EQ(bits_of(bf16_to_float(b)), uint32_t(b) << 16);
  }
}

}  // namespace
}  // namespace lutc

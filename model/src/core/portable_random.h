#pragma once
// Random variates that come out bit-identical on every platform for a given
// seed. std::mt19937_64 is fully specified by the standard, but the std
// distributions and libm's log/exp are not, so the transforms here use only
// IEEE +, -, *, /, sqrt and exact scaling (frexp/ldexp), which every
// conforming platform rounds the same way (with FP contraction off, as the
// build sets it).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>

namespace lutc::portable {

// SplitMix64 finalizer: turns (seed, stream) pairs into well-spread seeds.
inline uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
inline uint64_t mix(uint64_t seed, uint64_t stream) { return mix(seed ^ mix(stream)); }

constexpr double kLn2Hi = 6.93147180369123816490e-01;  // ln 2 split so k*kLn2Hi is exact
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kLn2 = 0.6931471805599453;

// Exact power-of-two scaling by exponent bits; both helpers fall back to the
// library (also exact) outside the normal range, where the bit tricks stop working.
inline double split_exponent(double x, int* e) {  // x = m 2^e, m in [0.5, 1)
  uint64_t u;
  std::memcpy(&u, &x, 8);
  const int biased = int((u >> 52) & 0x7ff);
  if (biased == 0 || biased == 0x7ff) return std::frexp(x, e);
  *e = biased - 1022;
  u = (u & ~(uint64_t(0x7ff) << 52)) | (uint64_t(1022) << 52);
  double m;
  std::memcpy(&m, &u, 8);
  return m;
}
inline double times_pow2(double x, int k) {
  if (k < -1000 || k > 1000) return std::ldexp(x, k);
  const uint64_t u = uint64_t(k + 1023) << 52;
  double p;
  std::memcpy(&p, &u, 8);
  return x * p;  // exact unless the product leaves the normal range
}

// Natural log of a positive finite x: x = m 2^e with m in [1/sqrt2, sqrt2),
// log m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172, series to s^19 (rel. error < 1e-16).
inline double log(double x) {
  int e;
  double m = split_exponent(x, &e);
  if (m < 0.70710678118654752440) {
    m *= 2;
    --e;
  }
  const double s = (m - 1) / (m + 1), s2 = s * s;
  // 1/(2k+1): the compiler rounds each constant once, identically everywhere.
  constexpr double c[] = {1.0, 1.0 / 3, 1.0 / 5, 1.0 / 7, 1.0 / 9, 1.0 / 11, 1.0 / 13, 1.0 / 15, 1.0 / 17, 1.0 / 19};
  double p = c[9];
  for (int k = 8; k >= 0; --k) p = p * s2 + c[k];
  return 2 * s * p + e * kLn2;
}

// e^x for |x| < 700: x = k ln2 + r, |r| <= ln2/2, Taylor to r^12 (rel. error < 1e-14).
inline double exp(double x) {
  const double k = std::floor(x * (1 / kLn2) + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  constexpr double inv[] = {0,       1.0,     1.0 / 2, 1.0 / 3,  1.0 / 4,  1.0 / 5, 1.0 / 6,
                            1.0 / 7, 1.0 / 8, 1.0 / 9, 1.0 / 10, 1.0 / 11, 1.0 / 12};
  double p = 1.0;
  for (int n = 12; n >= 1; --n) p = 1.0 + p * r * inv[n];  // Horner: 1 + r(1 + r/2(1 + ...))
  return times_pow2(p, int(k));
}

// Uniform on [0, 1) from the top 53 bits.
inline double uniform(std::mt19937_64& g) { return double(g() >> 11) * 0x1.0p-53; }

// Uniform integer in [0, n), unbiased (rejects the short final block).
inline uint64_t below(std::mt19937_64& g, uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t v;
  do v = g();
  while (v >= limit);
  return v % n;
}

// A point uniform in the open unit disk minus its centre (polar methods).
// Both coordinates come from one 64-bit draw, 32 bits each: the generator is
// the expensive part, and a 2^-31 grid only coarsens tails rarer than 2^-40.
struct DiskPoint {
  double u, w;  // one coordinate, and the squared radius in (0, 1)
};
inline DiskPoint disk_point(std::mt19937_64& g) {
  for (;;) {
    const uint64_t x = g();
    const double u = double(int64_t(x >> 32) - 0x80000000ll) * 0x1.0p-31;
    const double v = double(int64_t(x & 0xffffffffu) - 0x80000000ll) * 0x1.0p-31;
    const double w = u * u + v * v;
    if (w > 0 && w < 1) return {u, w};
  }
}

// Standard normal, Marsaglia's polar method (second variate discarded).
inline double normal(std::mt19937_64& g) {
  const DiskPoint p = disk_point(g);
  return p.u * std::sqrt(-2 * portable::log(p.w) / p.w);
}

// Student-t with nu > 0 degrees of freedom, Bailey's polar method:
// T = U sqrt(nu (W^(-2/nu) - 1) / W). One log and one exp per variate,
// where normal / sqrt(chi2 / nu) would need nu + 1 normals.
inline double student_t(std::mt19937_64& g, double nu) {
  const DiskPoint p = disk_point(g);
  const double w_pow = portable::exp(-2 / nu * portable::log(p.w));
  return p.u * std::sqrt(nu * (w_pow - 1) / p.w);
}

}  // namespace lutc::portable

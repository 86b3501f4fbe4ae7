#include "lutc/model/sop_scale.h"

#include <cmath>
#include <cstring>

namespace lutc {

namespace {

// The definition, for any arguments (ue_value's fast path covers M <= 8 and
// the 16 exponents; everything else lands here).
float ue_value_ldexp(unsigned code, unsigned mant_bits) {
  const unsigned e = code >> mant_bits;
  const unsigned m = code & ((1u << mant_bits) - 1u);
  const int lsb = -kUeBias - int(mant_bits);
  if (e == 0) return std::ldexp(float(m), 1 + lsb);
  return std::ldexp(float((1u << mant_bits) + m), int(e) + lsb);
}

float float_of_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

}  // namespace

// Every value is exact in fp32, so it is assembled from its bits: a normal
// code is the fp32 with exponent e - 7 and the code's mantissa on top, a
// subnormal one m times 2^(-6-M) (a power of two: exact).
float ue_value(unsigned code, unsigned mant_bits) {
  const unsigned e = code >> mant_bits;
  const unsigned m = code & ((1u << mant_bits) - 1u);
  if (mant_bits > 8 || e >= (1u << kUeExpBits)) return ue_value_ldexp(code, mant_bits);
  if (e == 0) return float(m) * float_of_bits(uint32_t(127 + 1 - kUeBias - int(mant_bits)) << 23);
  return float_of_bits((uint32_t(int(e) - kUeBias + 127) << 23) | (m << (23 - mant_bits)));
}

// Values are increasing in the code: the largest code with value <= v is
// v's binade and leading M mantissa bits (truncated), or in the subnormal
// range floor(v * 2^(6+M)); both exact, no floating-point rounding of v.
unsigned ue_round_down(double v, unsigned mant_bits) {
  const unsigned top = ue_code_count(mant_bits) - 1;
  if (!(v > 0)) return 0;
  if (v >= double(ue_value(top, mant_bits))) return top;
  if (mant_bits > 8) {
    unsigned lo = 0, hi = top;
    while (lo < hi) {  // largest code with value <= v
      const unsigned mid = (lo + hi + 1) / 2;
      if (double(ue_value(mid, mant_bits)) <= v)
        lo = mid;
      else
        hi = mid - 1;
    }
    return lo;
  }
  const double min_normal = 1.0 / double(1u << (kUeBias - 1));  // 2^(1 - bias), exact
  if (v < min_normal) return unsigned(v * double(1u << (kUeBias - 1 + int(mant_bits))));
  uint64_t u;
  std::memcpy(&u, &v, sizeof u);
  const int binade = int((u >> 52) & 0x7ffu) - 1023;  // v is a normal double here
  const unsigned m = unsigned(u >> (52 - mant_bits)) & ((1u << mant_bits) - 1u);
  return (unsigned(binade + kUeBias) << mant_bits) | m;
}

unsigned ue_round_up(double v, unsigned mant_bits) {
  const unsigned d = ue_round_down(v, mant_bits);
  const unsigned top = ue_code_count(mant_bits) - 1;
  if (d == top || double(ue_value(d, mant_bits)) == v || !(v > 0)) return d;
  return d + 1;
}

unsigned ue_round_nearest(double v, unsigned mant_bits) {
  const unsigned d = ue_round_down(v, mant_bits);
  const unsigned u = ue_round_up(v, mant_bits);
  if (d == u) return d;
  const double below = v - double(ue_value(d, mant_bits));
  const double above = double(ue_value(u, mant_bits)) - v;
  if (below < above) return d;
  if (above < below) return u;
  return (d & 1u) ? u : d;
}

uint16_t pack_sop_scale(const SopScaleCode& c, unsigned mant_bits, bool paired, bool is_signed) {
  unsigned code = c.magnitude, at = kUeExpBits + mant_bits;
  if (paired) code |= (c.sel & 1u) << at++;
  if (is_signed) code |= (c.sign & 1u) << at;
  return uint16_t(code);
}

SopScaleCode unpack_sop_scale(uint16_t code, unsigned mant_bits, bool paired, bool is_signed) {
  SopScaleCode c;
  unsigned at = kUeExpBits + mant_bits;
  c.magnitude = code & ((1u << at) - 1u);
  if (paired) c.sel = (code >> at++) & 1u;
  if (is_signed) c.sign = (code >> at) & 1u;
  return c;
}

}  // namespace lutc

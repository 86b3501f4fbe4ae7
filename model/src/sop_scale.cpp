#include "lutc/model/sop_scale.h"

#include <cmath>

namespace lutc {

float ue_value(unsigned code, unsigned mant_bits) {
  const unsigned e = code >> mant_bits;
  const unsigned m = code & ((1u << mant_bits) - 1u);
  const int lsb = -kUeBias - int(mant_bits);
  if (e == 0) return std::ldexp(float(m), 1 + lsb);
  return std::ldexp(float((1u << mant_bits) + m), int(e) + lsb);
}

// Values are increasing in the code, so a binary search over the codes is
// exact and needs no floating-point rounding of v.
unsigned ue_round_down(double v, unsigned mant_bits) {
  unsigned lo = 0, hi = ue_code_count(mant_bits) - 1;
  if (!(v > 0)) return 0;
  if (v >= ue_value(hi, mant_bits)) return hi;
  while (lo < hi) {  // largest code with value <= v
    const unsigned mid = (lo + hi + 1) / 2;
    if (double(ue_value(mid, mant_bits)) <= v)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
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

#include "lutc/model/fp16.h"

#include <cstring>

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
}  // namespace

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t man = h & 0x3ffu;
  if (exp == 0x1f) return float_of(sign | 0x7f800000u | (man << 13));
  if (exp != 0) return float_of(sign | ((exp + 112) << 23) | (man << 13));
  // Subnormal: man * 2^-24 is exact in fp32.
  const float v = float(man) * 5.9604644775390625e-08f;
  return (sign ? -v : v);
}

uint16_t float_to_half(float f) {
  const uint32_t u = bits_of(f);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  const uint32_t abs = u & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or NaN (keep NaN quiet and non-zero)
    return uint16_t(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u | ((abs >> 13) & 0x3ffu) : 0u));
  }
  const int exp = int(abs >> 23) - 127;
  if (exp > 15) return uint16_t(sign | 0x7c00u);
  if (exp >= -14) {
    // Normal: keep 10 mantissa bits, round half to even on the 13 dropped bits.
    uint32_t m = abs & 0x7fffffu;
    uint32_t h = uint32_t((exp + 15) << 10) | (m >> 13);
    const uint32_t rest = m & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // may carry into exponent/inf: correct
    return uint16_t(sign | h);
  }
  if (exp < -25) return sign;  // below half of the smallest subnormal
  // Subnormal: value = m24 * 2^(exp-23); target unit 2^-24.
  const uint32_t m24 = (abs & 0x7fffffu) | 0x800000u;
  const int shift = -exp - 1;  // 14..24 -> bits dropped = (exp-23) .. to -24
  const int drop = shift;      // m24 * 2^(exp-23) / 2^-24 = m24 >> (-(exp+1))
  uint32_t q = m24 >> drop;
  const uint32_t rest = m24 & ((1u << drop) - 1);
  const uint32_t halfway = 1u << (drop - 1);
  if (rest > halfway || (rest == halfway && (q & 1u))) ++q;
  return uint16_t(sign | q);
}

uint16_t float_to_bf16(float f) {
  uint32_t u = bits_of(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40u);
  const uint32_t lsb = (u >> 16) & 1u;
  u += 0x7fffu + lsb;
  return uint16_t(u >> 16);
}

}  // namespace lutc

#include "lutc/model/element_formats.h"

#include <cmath>
#include <limits>

#include "lutc/model/fp16.h"

namespace lutc {

// Published NF4 levels (quantiles of N(0,1) normalized to [-1, 1], with an
// exact zero), as listed in the QLoRA paper's appendix.
const float kNf4Levels[16] = {
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f,
};

uint16_t nf4_level_fp16(unsigned i) { return float_to_half(kNf4Levels[i & 15u]); }

float e4m3_to_float(uint8_t code) {
  if (e4m3_is_nan(code)) return std::numeric_limits<float>::quiet_NaN();
  const int e = (code >> 3) & 15;
  const int m = code & 7;
  // Subnormal: m * 2^-9; normal: (8 + m) * 2^(e - 10). Both exact in fp32.
  const float mag = e == 0 ? std::ldexp(float(m), -9) : std::ldexp(float(8 + m), e - 10);
  return (code & 0x80) ? -mag : mag;
}

uint8_t double_to_e4m3(double v) {
  const double a = std::fabs(v);
  const uint8_t sign = v < 0 ? 0x80 : 0x00;
  // Halfway between 448 and the next step (480) saturates as well: there is no 480.
  if (a >= 448.0) return uint8_t(sign | 0x7e);
  int code;
  if (a < 0x1p-6) {
    // Subnormal grid, unit 2^-9; rounding up to 8 lands on the smallest normal (code 8).
    code = int(std::nearbyint(a * 512.0));
  } else {
    int e2;
    std::frexp(a, &e2);                                 // a in [2^(e2-1), 2^e2)
    const int e = e2 - 1;                               // -6..8
    int m = int(std::nearbyint(std::ldexp(a, 3 - e)));  // 8..16
    int be = e + 7;
    if (m == 16) {
      m = 8;
      ++be;
    }
    code = (be << 3) | (m - 8);
    if (code > 0x7e) code = 0x7e;
  }
  if (code == 0) return 0;
  return uint8_t(sign | code);
}

}  // namespace lutc

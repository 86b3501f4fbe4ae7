#pragma once
// IEEE binary16 and bfloat16 conversions, round-to-nearest-even, with
// subnormals, infinities and NaN. Hand-written because every implementation
// (CPU, CUDA, RTL) must agree on them bit for bit and F16C is not guaranteed.
#include <cstdint>
#include <cstring>

namespace lutc {

float half_to_float(uint16_t h);
uint16_t float_to_half(float f);  // RNE; overflow -> inf
// Inline: a bf16 weight file is converted with it element by element, and the
// shift vectorizes only where the compiler sees it.
inline float bf16_to_float(uint16_t b) {
  const uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint16_t float_to_bf16(float f);  // RNE; NaN stays NaN
inline float round_to_half(float f) { return half_to_float(float_to_half(f)); }

constexpr float kHalfMax = 65504.0f;
constexpr float kHalfMinNormal = 6.103515625e-05f;            // 2^-14
constexpr float kHalfMinSubnormal = 5.9604644775390625e-08f;  // 2^-24

}  // namespace lutc

#pragma once
// Fixed element grids the baselines use, shared by the quantizers, the golden
// decode and every other implementation so the tables exist once.
#include <cstdint>

namespace lutc {

// OCP FP8 E4M3: sign, 4 exponent bits (bias 7), 3 mantissa bits, subnormals,
// no infinities; S.1111.111 is NaN. Every other code is exact in fp32.
float e4m3_to_float(uint8_t code);
inline bool e4m3_is_nan(uint8_t code) { return (code & 0x7f) == 0x7f; }
// Round-to-nearest-even onto the E4M3 grid; magnitudes past 448 saturate to
// 448. Zero (either sign) gives code 0. v must be finite.
uint8_t double_to_e4m3(double v);
constexpr float kE4m3Max = 448.0f;

// The 16 NF4 levels (QLoRA) rounded to fp16, ascending, entry 7 is 0.
uint16_t nf4_level_fp16(unsigned i);
// The same levels as published (fp32), for reference.
extern const float kNf4Levels[16];

}  // namespace lutc

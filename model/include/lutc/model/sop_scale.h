#pragma once
// The SOP block scale: an unsigned float with 4 exponent bits and M in {2,3,4}
// mantissa bits ("UE4M4", "UE4M3", "UE4M2"), bias 7, subnormals, every code
// finite (no Inf/NaN codes). Shared by the quantizer and the golden decode
// so every implementation reads one table (docs/numerics.md §3.1, docs/sop.md).
#include <cstdint>

namespace lutc {

constexpr int kUeBias = 7;
constexpr unsigned kUeExpBits = 4;

// The SOP format's rules, one place for the parser, validation, the golden
// decode and the bpw arithmetic: the mantissa width M, the block sizes, and
// the width of a full scale code ([sign][sel] E4 M).
constexpr unsigned kSopScaleMantMin = 2, kSopScaleMantMax = 4;
constexpr bool sop_scale_mant_ok(unsigned m) { return m >= kSopScaleMantMin && m <= kSopScaleMantMax; }
constexpr bool sop_block_ok(uint32_t b) { return b == 8 || b == 16 || b == 32 || b == 64; }
constexpr const char* kSopBlocksText = "{8, 16, 32, 64}";
constexpr unsigned sop_scale_code_bits(unsigned mant_bits, bool paired, bool is_signed) {
  return kUeExpBits + mant_bits + unsigned(paired) + unsigned(is_signed);
}

inline unsigned ue_code_count(unsigned mant_bits) { return 1u << (kUeExpBits + mant_bits); }

// e = code >> M, m = code & (2^M - 1):
//   e = 0: m * 2^(1 - 7 - M)          (subnormal; code 0 is 0)
//   e > 0: (2^M + m) * 2^(e - 7 - M)
// Exact in fp32 (at most 5 significant bits). UE4M4 spans 2^-10 .. 496.
float ue_value(unsigned code, unsigned mant_bits);

// Largest code whose value is <= v (0 for v <= 0), and smallest code whose
// value is >= v (saturating at the largest code). v must not be NaN.
unsigned ue_round_down(double v, unsigned mant_bits);
unsigned ue_round_up(double v, unsigned mant_bits);
// Round to nearest, ties to the even code, saturating at the largest value.
unsigned ue_round_nearest(double v, unsigned mant_bits);

// A full SOP scale code: [sign][sel] E4 M, LSB first (layer.h).
struct SopScaleCode {
  unsigned magnitude = 0;  // UE code
  unsigned sel = 0;        // 0/1, only when paired
  unsigned sign = 0;       // 0/1, only when signed
};
uint16_t pack_sop_scale(const SopScaleCode& c, unsigned mant_bits, bool paired, bool is_signed);
SopScaleCode unpack_sop_scale(uint16_t code, unsigned mant_bits, bool paired, bool is_signed);

}  // namespace lutc

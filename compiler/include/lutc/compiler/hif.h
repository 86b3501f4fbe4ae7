#pragma once
// HIF, the word a LUT bank stores and hands to the multiplier (docs/hif.md):
//   word = sign (1 bit) | shift (shift_bits) | mant (mant_bits, unsigned)
//   value = (-1)^sign * mant * 2^(base - shift)
// with one signed exponent `base` per LUT (codebook). mant_bits 11 and
// shift_bits 5 represent every finite fp16 value exactly (lossless HIF).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lutc {

struct HifFormat {
  unsigned mant_bits = 11;
  unsigned shift_bits = 5;
  unsigned word_bits() const { return 1 + mant_bits + shift_bits; }
  unsigned max_shift() const { return (1u << shift_bits) - 1; }
};

struct HifFields {
  bool negative = false;
  unsigned shift = 0;
  uint32_t mant = 0;
};

inline uint32_t hif_pack(const HifFormat& f, const HifFields& h) {
  return (uint32_t(h.negative) << (f.mant_bits + f.shift_bits)) | (h.shift << f.mant_bits) | h.mant;
}
inline HifFields hif_unpack(const HifFormat& f, uint32_t word) {
  HifFields h;
  h.mant = word & ((1u << f.mant_bits) - 1);
  h.shift = (word >> f.mant_bits) & ((1u << f.shift_bits) - 1);
  h.negative = (word >> (f.mant_bits + f.shift_bits)) & 1;
  return h;
}
// The exact value of a word (fits a double: at most 13 significant bits).
double hif_value(const HifFormat& f, uint32_t word, int base);

// One LUT: its words and its exponent base.
struct HifBook {
  int32_t base = 0;
  std::vector<uint32_t> words;
};

// The smallest lsb exponent a word may have: values stay exact in fp32
// (subnormals included), so the HIF-rounded reference weights are fp32.
constexpr int kHifMinLsbExp = -149;

// Lowers n finite values (exact in fp32) into one LUT. The base is chosen
// among the candidates around the one that fits the largest magnitude, by
// smallest sum of squared errors (docs/hif.md "Choosing the base").
HifBook encode_hif_book(const float* values, size_t n, const HifFormat& f);
// The word for one value at a given base: the largest shift that keeps the
// rounded (half to even) mantissa within mant_bits; saturates when the value
// does not fit at shift 0.
uint32_t encode_hif_word(const HifFormat& f, double value, int base);

// The base range a program may carry (checked by the .lutp reader).
constexpr int kHifMinBase = -200;
constexpr int kHifMaxBase = 200;

}  // namespace lutc

#pragma once
// Lowering fp16 codebooks into HIF words (docs/hif.md); the word's fields and
// their packing are the engine rule in lutc/spec/hif_word.h.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "lutc/spec/hif_word.h"

namespace lutc {

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

// HIF encoding (docs/hif.md). All arithmetic is in double on values with at
// most 24 significant bits scaled by powers of two, so every step is exact
// except the one rounding of the mantissa, which is half to even.
#include "lutc/compiler/hif.h"

#include <algorithm>
#include <cmath>

namespace lutc {

double hif_value(const HifFormat& f, uint32_t word, int base) {
  const HifFields h = hif_unpack(f, word);
  const double v = std::ldexp(double(h.mant), base - int(h.shift));
  return h.negative ? -v : v;
}

uint32_t encode_hif_word(const HifFormat& f, double value, int base) {
  if (value == 0) return 0;
  const double mag = std::fabs(value);
  int e;
  std::frexp(mag, &e);  // mag in [2^(e-1), 2^e)
  const int msb = e - 1;
  // Shifts allowed by the field and by the fp32 floor on the word's lsb.
  const int max_shift = std::min<int>(int(f.max_shift()), base - kHifMinLsbExp);
  const uint64_t limit = uint64_t(1) << f.mant_bits;
  HifFields h;
  h.negative = value < 0;
  if (max_shift < 0) return hif_pack(f, h);  // base below the fp32 floor: flush to zero
  int s = std::clamp(int(f.mant_bits) - 1 - msb + base, 0, max_shift);
  double m = std::nearbyint(std::ldexp(mag, s - base));
  if (m >= double(limit)) {
    if (s > 0) {
      --s;  // rounding carried into a new bit: one shift less is exact
      m = std::nearbyint(std::ldexp(mag, s - base));
    }
    if (m >= double(limit)) m = double(limit - 1);  // saturate
  }
  h.shift = unsigned(s);
  h.mant = uint32_t(m);
  if (h.mant == 0) return 0;  // canonical zero: no negative zero, shift 0
  return hif_pack(f, h);
}

HifBook encode_hif_book(const float* values, size_t n, const HifFormat& f) {
  HifBook book;
  book.words.assign(n, 0);
  double amax = 0;
  for (size_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(double(values[i])));
  if (amax == 0) return book;
  int e;
  std::frexp(amax, &e);
  const int fit = (e - 1) - (int(f.mant_bits) - 1);  // largest value's msb at the top mantissa bit
  // Candidates in order of preference (ties keep the earlier one): the fitting
  // base, one coarser (room for a rounding carry), finer ones that saturate
  // the largest entries but resolve the small ones better when the shift
  // field is narrow.
  const int candidates[] = {fit, fit + 1, fit - 1, fit - 2};
  double best_err = INFINITY;
  for (int base : candidates) {
    if (base < kHifMinBase || base > kHifMaxBase) continue;
    double err = 0;
    std::vector<uint32_t> words(n);
    for (size_t i = 0; i < n; ++i) {
      words[i] = encode_hif_word(f, values[i], base);
      const double d = hif_value(f, words[i], base) - double(values[i]);
      err += d * d;
    }
    if (err < best_err) {
      best_err = err;
      book.base = base;
      book.words = std::move(words);
    }
    if (err == 0) break;
  }
  return book;
}

}  // namespace lutc

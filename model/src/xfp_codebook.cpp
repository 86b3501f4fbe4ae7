#include "xfp_codebook.h"

#include <algorithm>

#include "lutc/model/fp16.h"

namespace lutc::xfp {

void round_codebook(const double* c, unsigned k, uint16_t* out) {
  for (unsigned j = 0; j < k; ++j) {
    const float f = float(std::clamp(c[j], -double(kHalfMax), double(kHalfMax)));
    out[j] = float_to_half(f);
  }
}

void codebook_values(const uint16_t* cb, unsigned k, double* out) {
  for (unsigned j = 0; j < k; ++j) out[j] = half_to_float(cb[j]);
}

Score score_range(const Run& r, uint32_t lo, uint32_t hi, const double* e, unsigned k) {
  Score s;
  uint32_t a = lo;
  for (unsigned j = 0; j < k && a < hi; ++j) {
    const uint32_t b = j + 1 < k ? r.upper(a, hi, 0.5 * (e[j] + e[j + 1])) : hi;
    if (b > a) {
      const double n = b - a, s1 = r.sum(a, b);
      s.sse += r.sumsq(a, b) - 2 * e[j] * s1 + e[j] * e[j] * n;
      s.dot += e[j] * s1;
      s.hh += e[j] * e[j] * n;
    }
    a = b;
  }
  if (s.sse < 0) s.sse = 0;
  return s;
}

void assign_codes(const Run& r, const uint32_t* perm, const double* e, unsigned k,
                  uint8_t* row_codes) {
  uint32_t a = 0;
  for (unsigned j = 0; j < k && a < r.n; ++j) {
    const uint32_t b = j + 1 < k ? r.upper(a, r.n, 0.5 * (e[j] + e[j + 1])) : r.n;
    for (uint32_t i = a; i < b; ++i) row_codes[perm[i]] = uint8_t(j);
    a = b;
  }
}

}  // namespace lutc::xfp

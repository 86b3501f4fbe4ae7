#include "xfp/xfp_codebook.h"

#include <algorithm>
#include <cmath>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

void assign_codes(const Run& r, const uint32_t* perm, const double* e, unsigned k, uint8_t* row_codes) {
  uint32_t a = 0;
  for (unsigned j = 0; j < k && a < r.n; ++j) {
    const uint32_t b = j + 1 < k ? r.upper(a, r.n, 0.5 * (e[j] + e[j + 1])) : r.n;
    for (uint32_t i = a; i < b; ++i) row_codes[perm[i]] = uint8_t(j);
    a = b;
  }
}

void assign_codes_by_value(const float* x, uint32_t n, const double* e, unsigned k, uint8_t* codes) {
  // assign_codes puts a value v in cluster j when t[j-1] < v <= t[j] for the
  // midpoints t[j] = (e[j] + e[j+1]) / 2 in double: the code is the count of
  // midpoints below v (they ascend with e). For a float v, v > t exactly when
  // v > tf, tf the largest float <= t, so the compares run in float.
  float t[kMaxCenters];
  for (unsigned j = 0; j + 1 < k; ++j) {
    const double mid = 0.5 * (e[j] + e[j + 1]);
    float f = float(mid);
    if (double(f) > mid) f = std::nextafter(f, -INFINITY);
    t[j] = f;
  }
  uint32_t i = 0;
#if defined(__SSE2__)
  // 16 values at a time: four compares per midpoint (a true compare is -1,
  // so subtracting counts), then the counts narrow to 16 bytes.
  for (; i + 16 <= n; i += 16) {
    const __m128 v0 = _mm_loadu_ps(x + i), v1 = _mm_loadu_ps(x + i + 4);
    const __m128 v2 = _mm_loadu_ps(x + i + 8), v3 = _mm_loadu_ps(x + i + 12);
    __m128i c0 = _mm_setzero_si128(), c1 = c0, c2 = c0, c3 = c0;
    for (unsigned j = 0; j + 1 < k; ++j) {
      const __m128 tj = _mm_set1_ps(t[j]);
      c0 = _mm_sub_epi32(c0, _mm_castps_si128(_mm_cmpgt_ps(v0, tj)));
      c1 = _mm_sub_epi32(c1, _mm_castps_si128(_mm_cmpgt_ps(v1, tj)));
      c2 = _mm_sub_epi32(c2, _mm_castps_si128(_mm_cmpgt_ps(v2, tj)));
      c3 = _mm_sub_epi32(c3, _mm_castps_si128(_mm_cmpgt_ps(v3, tj)));
    }
    const __m128i lo = _mm_packs_epi32(c0, c1), hi = _mm_packs_epi32(c2, c3);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + i), _mm_packus_epi16(lo, hi));
  }
#endif
  for (; i < n; ++i) {
    unsigned c = 0;
    for (unsigned j = 0; j + 1 < k; ++j) c += x[i] > t[j] ? 1u : 0u;
    codes[i] = uint8_t(c);
  }
}

}  // namespace lutc::xfp

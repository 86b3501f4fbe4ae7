#pragma once
// The exact path for 4- and 6-bit codes with AVX-512 VNNI. Each integer weight
// w_int (int64) is offset to u = w_int + 2^(15L-1) >= 0 and split into L
// 15-bit limbs; each activation into a = 256*hi + lo. vpermw looks a limb up
// for 32 codes at once and vpdpwssd adds limb*lo and limb*hi pairs into int32
// lanes, which are widened to int64 before they could overflow. At the end of
// the row:
//   sum_k w_int a = sum_l 2^(15l) (S_lo[l] + 256 S_hi[l]) - 2^(15L-1) sum_k a
// in 128-bit integers: the golden sum exactly, so the golden rounding gives
// the golden bits. L is fixed per layer by the largest weight any element
// refers to (L <= 4, |w_int| < 2^59); wider layers take the scalar path.
//
// This header holds what the two kernels share: the limb split, the int32 ->
// int64 accumulators and the dispatch entry points. 4-bit codes (padded and
// dense sop b8/b16 layouts): exact_rows4_avx512.cpp; 6-bit codes:
// exact_rows6_avx512.cpp; exact_rows_avx512.cpp picks and prepares.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "exact_rows.h"
#include "table16_avx512.h"

namespace lutc::kernels {

constexpr uint32_t kPair = 2 * kBlock;  // elements per step: 32 code bytes
constexpr unsigned kFlushPairs = 32;    // int32 lanes gain < 2^25 per step

inline int limbs_needed(const PackedLayer& p) {
  const double v = double(p.dense_abs_max) * std::ldexp(1.0, -p.weight_exp);
  for (int l = 1; l <= 4; ++l)
    if (v < std::ldexp(1.0, 15 * l - 1)) return l;
  return 0;
}

// The L limbs of table t's 16 entries: limb l into out[l * stride + 0..15].
LUTC_AVX512 inline void table_limbs(__m512 t, int L, double unit, int16_t* out, size_t stride) {
  const __m512d s = _mm512_set1_pd(unit);
  // Codes no element uses may convert to anything: nothing multiplies them.
  const __m512i w0 = _mm512_cvttpd_epi64(_mm512_mul_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(t)), s));
  const __m512i w1 = _mm512_cvttpd_epi64(
      _mm512_mul_pd(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(t), 1))), s));
  const __m512i off = _mm512_set1_epi64(int64_t(1) << (15 * L - 1));
  const __m512i u0 = _mm512_add_epi64(w0, off), u1 = _mm512_add_epi64(w1, off);
  const __m512i mask = _mm512_set1_epi64(0x7fff);
  for (int l = 0; l < L; ++l) {
    const __m128i a = _mm512_cvtepi64_epi16(_mm512_and_si512(_mm512_srli_epi64(u0, 15 * l), mask));
    const __m128i b = _mm512_cvtepi64_epi16(_mm512_and_si512(_mm512_srli_epi64(u1, 15 * l), mask));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + l * stride),
                        _mm256_inserti128_si256(_mm256_castsi128_si256(a), b, 1));
  }
}

LUTC_AVX512 inline __m512i widen_add(__m512i acc64, __m512i v32) {
  acc64 = _mm512_add_epi64(acc64, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v32)));
  return _mm512_add_epi64(acc64, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v32, 1)));
}

// The L limb sums of one row and vector: int32 lanes take kFlushPairs steps,
// then move into int64 lanes before they could overflow.
template <int L>
struct LimbSums {
  __m512i lo32[L], hi32[L], lo64[L], hi64[L];
  unsigned steps = 0;
  LUTC_AVX512 LimbSums() {
    for (int l = 0; l < L; ++l) lo32[l] = hi32[l] = lo64[l] = hi64[l] = _mm512_setzero_si512();
  }
  // Limb l's weights d0 (low-nibble lanes) and d1 (high) times a = 256 * hi + lo.
  LUTC_AVX512 void add(int l, __m512i d0, __m512i d1, __m512i l0, __m512i l1, __m512i h0, __m512i h1) {
    lo32[l] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(lo32[l], d0, l0), d1, l1);
    hi32[l] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(hi32[l], d0, h0), d1, h1);
  }
  // 6-bit step: limb l's weights d at 32 lanes times a = 256 * hi + lo (half a 4-bit step's gain).
  LUTC_AVX512 void add(int l, __m512i d, __m512i lo, __m512i hi) {
    lo32[l] = _mm512_dpwssd_epi32(lo32[l], d, lo);
    hi32[l] = _mm512_dpwssd_epi32(hi32[l], d, hi);
  }
  LUTC_AVX512 void end_step() {
    if (++steps < kFlushPairs) return;
    for (int l = 0; l < L; ++l) {
      lo64[l] = widen_add(lo64[l], lo32[l]);
      hi64[l] = widen_add(hi64[l], hi32[l]);
      lo32[l] = hi32[l] = _mm512_setzero_si512();
    }
    steps = 0;
  }
  // sum_k w_int a, given asum = sum_k a (undoes the limbs' offset).
  LUTC_AVX512 __int128 total(int64_t asum) {
    __int128 sum = 0;
    for (int l = 0; l < L; ++l) {
      const int64_t slo = _mm512_reduce_add_epi64(widen_add(lo64[l], lo32[l]));
      const int64_t shi = _mm512_reduce_add_epi64(widen_add(hi64[l], hi32[l]));
      // Scaled by a multiply: a left shift of a negative value is undefined
      // in C++17 (UBSan aborts on it), a multiply by 2^s is the same value.
      sum += (__int128(slo) + __int128(shi) * 256) * (__int128(1) << (15 * l));
    }
    return sum - __int128(asum) * (__int128(1) << (15 * L - 1));
  }
};

inline int64_t row_activation_sum(const PackedLayer& p, const IntActivations& act, uint32_t m) {
  int64_t asum = 0;
  for (uint32_t g = 0; g < p.groups_per_row; ++g) asum += act.group_sum[m * p.groups_per_row + g];
  return asum;
}

// 4-bit codes: lane of element e (padded coordinates) within its step of 64;
// per-call tables (dense sop layers: every scale code's limbs); the rows.
size_t exact4_lane_of(uint32_t e);
void exact4_tables(const PackedLayer& p, IntActivations& act);
void exact4_rows_avx512(const PackedLayer& p, const IntActivations& act, uint32_t batch, uint32_t r0, uint32_t r1,
                        float* y);
// 6-bit codes: per-call tables (sop scale codes, xfp.v2a library ids); the rows.
void exact6_tables(const PackedLayer& p, IntActivations& act);
void exact6_rows_avx512(const PackedLayer& p, const IntActivations& act, uint32_t batch, uint32_t r0, uint32_t r1,
                        float* y);

}  // namespace lutc::kernels

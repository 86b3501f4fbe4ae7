// The exact path for 4-bit codes with AVX-512 VNNI. Each integer weight
// w_int (int64) is offset to u = w_int + 2^(15L-1) >= 0 and split into L
// 15-bit limbs; each activation into a = 256*hi + lo. vpermw looks a limb up
// for 32 codes at once and vpdpwssd adds limb*lo and limb*hi pairs into int32
// lanes, which are widened to int64 before they could overflow. At the end of
// the row:
//   sum_k w_int a = sum_l 2^(15l) (S_lo[l] + 256 S_hi[l]) - 2^(15L-1) sum_k a
// in 128-bit integers: the golden sum exactly, so the golden rounding gives
// the golden bits. L is fixed per layer by the largest weight any element
// refers to (L <= 4, |w_int| < 2^59); wider layers take the scalar path.
#include <cmath>
#include <vector>

#include "exact_rows.h"
#include "lutc/model/golden.h"
#include "row_kernels.h"
#include "table16_avx512.h"

namespace lutc::kernels {
namespace {

constexpr uint32_t kPair = 2 * kBlock;  // elements per step: 32 code bytes
constexpr unsigned kFlushPairs = 32;    // int32 lanes gain < 2^25 per step

int limbs_needed(const PackedLayer& p) {
  const double v = double(p.dense_abs_max) * std::ldexp(1.0, -p.weight_exp);
  for (int l = 1; l <= 4; ++l)
    if (v < std::ldexp(1.0, 15 * l - 1)) return l;
  return 0;
}

// Limb tables of one group: L runs of 32 16-bit words, entries 0..15 used.
LUTC_AVX512 void group_limbs(const PackedLayer& p, uint32_t r, uint32_t g, int L, double unit, int16_t* out) {
  const __m512 t = table16(p, r, g);
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
    _mm512_storeu_si512(out + 32 * l, _mm512_castsi256_si512(_mm256_inserti128_si256(_mm256_castsi128_si256(a), b, 1)));
  }
}

LUTC_AVX512 inline __m512i widen_add(__m512i acc64, __m512i v32) {
  acc64 = _mm512_add_epi64(acc64, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v32)));
  return _mm512_add_epi64(acc64, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v32, 1)));
}

template <int L>
LUTC_AVX512 __int128 row_sum(const PackedLayer& p, const IntActivations& act, uint32_t m, uint32_t r,
                             const int16_t* limbs) {
  const __m512i low4 = _mm512_set1_epi16(15);
  __m512i lo32[L], hi32[L], lo64[L], hi64[L];
  for (int l = 0; l < L; ++l) lo32[l] = hi32[l] = lo64[l] = hi64[l] = _mm512_setzero_si512();
  unsigned steps = 0;
  const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
  const int16_t* alo = act.lo.data() + m * act.lane_stride;
  const int16_t* ahi = act.hi.data() + m * act.lane_stride;
  for (uint32_t g = 0; g < p.groups_per_row; ++g) {
    const uint8_t* src = row + size_t(g) * p.group_bytes;
    const size_t a0 = size_t(g) * act.group_lanes;
    __m512i t[L];
    for (int l = 0; l < L; ++l) t[l] = _mm512_loadu_si512(limbs + (size_t(g) * L + l) * 32);
    for (uint32_t e = 0; e < p.group_padded; e += kPair) {
      // A lone last block reads only its own 16 bytes; its partner lanes see code 0 and a = 0.
      const __mmask32 bytes = e + kPair <= p.group_padded ? 0xffffffffu : 0xffffu;
      const __m512i w = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(bytes, src + e / 2));
      const __m512i ilo = _mm512_and_si512(w, low4), ihi = _mm512_srli_epi16(w, 4);
      const int16_t* pl = alo + a0 + e;
      const int16_t* ph = ahi + a0 + e;
      const __m512i l0 = _mm512_loadu_si512(pl), l1 = _mm512_loadu_si512(pl + 32);
      const __m512i h0 = _mm512_loadu_si512(ph), h1 = _mm512_loadu_si512(ph + 32);
      for (int l = 0; l < L; ++l) {
        const __m512i d0 = _mm512_permutexvar_epi16(ilo, t[l]);
        const __m512i d1 = _mm512_permutexvar_epi16(ihi, t[l]);
        lo32[l] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(lo32[l], d0, l0), d1, l1);
        hi32[l] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(hi32[l], d0, h0), d1, h1);
      }
      if (++steps == kFlushPairs) {
        for (int l = 0; l < L; ++l) {
          lo64[l] = widen_add(lo64[l], lo32[l]);
          hi64[l] = widen_add(hi64[l], hi32[l]);
          lo32[l] = hi32[l] = _mm512_setzero_si512();
        }
        steps = 0;
      }
    }
  }
  __int128 sum = 0;
  for (int l = 0; l < L; ++l) {
    const int64_t slo = _mm512_reduce_add_epi64(widen_add(lo64[l], lo32[l]));
    const int64_t shi = _mm512_reduce_add_epi64(widen_add(hi64[l], hi32[l]));
    sum += (__int128(slo) + __int128(shi) * 256) << (15 * l);
  }
  int64_t asum = 0;
  for (uint32_t g = 0; g < p.groups_per_row; ++g) asum += act.group_sum[m * p.groups_per_row + g];
  return sum - (__int128(asum) << (15 * L - 1));
}

template <int L>
LUTC_AVX512 void rows(const PackedLayer& p, const IntActivations& act, uint32_t batch, uint32_t r0, uint32_t r1,
                      float* y) {
  const double unit = std::ldexp(1.0, -p.weight_exp);
  // Plain words, not std::vector<__m512i>: its allocation need not be 64-byte aligned.
  std::vector<int16_t> limbs(size_t(p.groups_per_row) * L * 32);
  std::vector<__int128> acc(batch);
  for (uint32_t r = r0; r < r1; ++r) {
    for (uint32_t g = 0; g < p.groups_per_row; ++g) group_limbs(p, r, g, L, unit, &limbs[size_t(g) * L * 32]);
    for (uint32_t m = 0; m < batch; ++m) acc[m] = row_sum<L>(p, act, m, r, limbs.data());
    add_outlier_corrections(p, act, batch, r, unit, acc.data());
    for (uint32_t m = 0; m < batch; ++m)
      y[size_t(m) * p.rows + r] = scaled_int128_to_float(acc[m], p.weight_exp + act.exp[m]);
  }
}

}  // namespace

bool exact4_avx512_applies(const PackedLayer& p) { return p.bits == 4 && limbs_needed(p) > 0; }

void fill_lane_activations(const PackedLayer& p, uint32_t batch, IntActivations& act) {
  act.group_lanes = (p.group_padded + kPair - 1) / kPair * kPair;
  act.lane_stride = size_t(p.groups_per_row) * act.group_lanes;
  act.lo.assign(act.lane_stride * batch, 0);
  act.hi.assign(act.lane_stride * batch, 0);
  act.group_sum.assign(size_t(p.groups_per_row) * batch, 0);
  for (uint32_t m = 0; m < batch; ++m)
    for (uint32_t g = 0; g < p.groups_per_row; ++g) {
      const int32_t* a = act.a.data() + m * act.stride + size_t(g) * p.group_padded;
      const size_t base = m * act.lane_stride + size_t(g) * act.group_lanes;
      int64_t sum = 0;
      for (uint32_t e = 0; e < p.group_padded; ++e) {
        const uint32_t pair = e / kPair, w = e % kPair, blk = w / kBlock, j = w % kBlock;
        const size_t pos = base + pair * kPair + (j < 16 ? blk * 16 + j : 32 + blk * 16 + (j - 16));
        act.lo[pos] = int16_t(a[e] & 255);
        act.hi[pos] = int16_t(a[e] >> 8);  // floor: a = 256 * hi + lo
        sum += a[e];
      }
      act.group_sum[m * p.groups_per_row + g] = sum;
    }
}

void exact_rows4_avx512(const PackedLayer& p, const IntActivations& act, uint32_t batch, uint32_t r0, uint32_t r1,
                        float* y) {
  switch (limbs_needed(p)) {
    case 1: rows<1>(p, act, batch, r0, r1, y); break;
    case 2: rows<2>(p, act, batch, r0, r1, y); break;
    case 3: rows<3>(p, act, batch, r0, r1, y); break;
    case 4: rows<4>(p, act, batch, r0, r1, y); break;
    default: break;
  }
}

}  // namespace lutc::kernels

// AVX2 + FMA + F16C kernels. A 16-entry fp32 table spans two registers:
// vpermps looks up both halves and bit 3 of the code picks one (blendv on the
// code shifted into the sign bit). The i8 path is vpshufb + vpmaddubsw with
// the sign trick (|w| unsigned, sign moved onto the activation).
#include <immintrin.h>

#include <vector>

#include "group_table.h"
#include "row_kernels.h"

#define LUTC_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace lutc::kernels {
namespace {

struct Table16 {
  __m256 lo, hi;  // entries 0..7, 8..15
};

LUTC_AVX2 inline Table16 table16(const PackedLayer& p, uint32_t r, uint32_t g) {
  const size_t gi = size_t(r) * p.groups_per_row + g;
  switch (p.scheme) {
    case Scheme::kXfpV2: {
      const uint16_t* cb = p.group_half.data() + gi * 16;
      return {_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(cb))),
              _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(cb + 8)))};
    }
    case Scheme::kXfpV2a: {
      const float* t = p.shared.data() + size_t(p.group_ids[gi]) * 16;
      return {_mm256_loadu_ps(t), _mm256_loadu_ps(t + 8)};
    }
    case Scheme::kInt4G128: {
      const __m256 s = _mm256_set1_ps(_cvtsh_ss(p.group_half[2 * gi]));
      const __m256 z = _mm256_set1_ps(_cvtsh_ss(p.group_half[2 * gi + 1]));
      const __m256 i0 = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
      const __m256 i1 = _mm256_setr_ps(8, 9, 10, 11, 12, 13, 14, 15);
      return {_mm256_mul_ps(s, _mm256_sub_ps(i0, z)), _mm256_mul_ps(s, _mm256_sub_ps(i1, z))};
    }
    case Scheme::kNf4B64: {
      const __m256 s = _mm256_set1_ps(_cvtsh_ss(p.group_half[gi]));
      return {_mm256_mul_ps(_mm256_loadu_ps(p.shared.data()), s),
              _mm256_mul_ps(_mm256_loadu_ps(p.shared.data() + 8), s)};
    }
    case Scheme::kSop: {
      const uint16_t c = p.group_half[gi];
      const __m256 s = _mm256_set1_ps(p.sop_scale[c]);
      const float* book = p.shared.data() + size_t(p.sop_book[c]) * 16;
      return {_mm256_mul_ps(_mm256_loadu_ps(book), s), _mm256_mul_ps(_mm256_loadu_ps(book + 8), s)};
    }
    default: return {_mm256_setzero_ps(), _mm256_setzero_ps()};
  }
}

LUTC_AVX2 inline __m256 lookup(const Table16& t, __m256i idx) {
  const __m256 a = _mm256_permutevar8x32_ps(t.lo, idx);
  const __m256 b = _mm256_permutevar8x32_ps(t.hi, idx);
  return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)));
}

// The 32 codes of one block as four runs of 8 in element order.
struct Codes32 {
  __m256i c[4];
};

LUTC_AVX2 inline Codes32 block_codes(const uint8_t* src) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
  const __m128i low4 = _mm_set1_epi8(15);
  const __m128i lo = _mm_and_si128(raw, low4);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(raw, 4), low4);
  return {{_mm256_cvtepu8_epi32(lo), _mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)), _mm256_cvtepu8_epi32(hi),
           _mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8))}};
}

LUTC_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <int MT>
LUTC_AVX2 void f32_rows4(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  for (uint32_t r = r0; r < r1; ++r) {
    __m256 acc[MT][2];
    for (int m = 0; m < MT; ++m) acc[m][0] = acc[m][1] = _mm256_setzero_ps();
    const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
    for (uint32_t g = 0; g < p.groups_per_row; ++g) {
      const Table16 t = table16(p, r, g);
      const uint8_t* src = row + size_t(g) * p.group_bytes;
      const float* xg = a.x + size_t(g) * p.group_padded;
      for (uint32_t b = 0; b < p.group_padded; b += kBlock) {
        const Codes32 c = block_codes(src + b / 2);
        for (int u = 0; u < 4; ++u) {
          const __m256 w = lookup(t, c.c[u]);
          for (int m = 0; m < MT; ++m)
            acc[m][u & 1] = _mm256_fmadd_ps(w, _mm256_loadu_ps(xg + m * a.stride + b + 8 * u), acc[m][u & 1]);
        }
      }
    }
    for (int m = 0; m < MT; ++m) {
      float s = hsum(_mm256_add_ps(acc[m][0], acc[m][1]));
      add_outliers(p, a, r, m, &s);
      y[size_t(m) * p.rows + r] = s;
    }
  }
}

template <int MT>
LUTC_AVX2 void f32_rows_gather(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  std::vector<float> table(size_t(1) << p.bits);
  std::vector<uint8_t> buf(p.group_padded);
  for (uint32_t r = r0; r < r1; ++r) {
    __m256 acc[MT];
    for (int m = 0; m < MT; ++m) acc[m] = _mm256_setzero_ps();
    for (uint32_t g = 0; g < p.groups_per_row; ++g) {
      // sop: gather from the block's codebook and apply its scale, the golden
      // decode's one product, instead of building 2^b entries for B elements.
      const float* tbl = table.data();
      __m256 scale = _mm256_set1_ps(1.0f);
      const bool sop = p.scheme == Scheme::kSop;
      if (sop) {
        const uint16_t c = p.group_half[size_t(r) * p.groups_per_row + g];
        tbl = p.shared.data() + size_t(p.sop_book[c]) * table.size();
        scale = _mm256_set1_ps(p.sop_scale[c]);
      } else {
        group_table(p, r, g, table.data());
      }
      const uint8_t* codes = buf.data();
      if (p.bits == 8)
        codes = p.indices.data() + size_t(r) * p.row_bytes + size_t(g) * p.group_bytes;
      else
        group_codes(p, r, g, buf.data());
      const float* xg = a.x + size_t(g) * p.group_padded;
      // Past the group's last vector only zero activations remain.
      const uint32_t kn = (p.group + 7) / 8 * 8;
      for (uint32_t k = 0; k < kn; k += 8) {
        const __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + k)));
        __m256 w = _mm256_i32gather_ps(tbl, idx, 4);
        if (sop) w = _mm256_mul_ps(w, scale);
        for (int m = 0; m < MT; ++m) acc[m] = _mm256_fmadd_ps(w, _mm256_loadu_ps(xg + m * a.stride + k), acc[m]);
      }
    }
    for (int m = 0; m < MT; ++m) {
      float s = hsum(acc[m]);
      add_outliers(p, a, r, m, &s);
      y[size_t(m) * p.rows + r] = s;
    }
  }
}

template <int MT>
LUTC_AVX2 void i8_rows4(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  const __m128i low4 = _mm_set1_epi8(15);
  const __m256i ones = _mm256_set1_epi16(1);
  int8_t t8[16];
  for (uint32_t r = r0; r < r1; ++r) {
    __m256 acc[MT];
    for (int m = 0; m < MT; ++m) acc[m] = _mm256_setzero_ps();
    const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
    for (uint32_t g = 0; g < p.groups_per_row; ++g) {
      const float ts = group_table_i8(p, r, g, t8);
      if (ts == 0) continue;
      const __m128i tb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t8));
      const uint8_t* src = row + size_t(g) * p.group_bytes;
      const size_t k0 = size_t(g) * p.group_padded;
      __m256 accg[MT];
      for (int m = 0; m < MT; ++m) accg[m] = _mm256_setzero_ps();
      for (uint32_t b = 0; b < p.group_padded; b += kBlock) {
        const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + b / 2));
        const __m128i wlo = _mm_shuffle_epi8(tb, _mm_and_si128(raw, low4));
        const __m128i whi = _mm_shuffle_epi8(tb, _mm_and_si128(_mm_srli_epi16(raw, 4), low4));
        const __m256i w = _mm256_set_m128i(whi, wlo);
        const __m256i wabs = _mm256_abs_epi8(w);
        for (int m = 0; m < MT; ++m) {
          const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.q + m * a.q_stride + k0 + b));
          const __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(wabs, _mm256_sign_epi8(q, w)), ones);
          const __m256 d = _mm256_loadu_ps(a.d8 + m * a.d_stride + (k0 + b) / kBlock * 8);
          accg[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), d, accg[m]);
        }
      }
      for (int m = 0; m < MT; ++m) acc[m] = _mm256_fmadd_ps(accg[m], _mm256_set1_ps(ts), acc[m]);
    }
    for (int m = 0; m < MT; ++m) {
      float s = hsum(acc[m]);
      add_outliers(p, a, r, m, &s);
      y[size_t(m) * p.rows + r] = s;
    }
  }
}

LUTC_AVX2 void decode_row4(const PackedLayer& p, uint32_t r, float* out) {
  alignas(32) float tmp[kBlock];
  const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
  for (uint32_t g = 0; g < p.groups_per_row; ++g) {
    const Table16 t = table16(p, r, g);
    const uint8_t* src = row + size_t(g) * p.group_bytes;
    const uint32_t k0 = g * p.group, n = std::min(p.group, p.cols - k0);
    for (uint32_t b = 0; b < n; b += kBlock) {
      const Codes32 c = block_codes(src + b / 2);
      float* dst = b + kBlock <= n ? out + k0 + b : tmp;
      for (int u = 0; u < 4; ++u) _mm256_storeu_ps(dst + 8 * u, lookup(t, c.c[u]));
      if (dst == tmp)
        for (uint32_t k = 0; k < n - b; ++k) out[k0 + b + k] = tmp[k];
    }
  }
  put_outliers(p, r, out);
}

template <template <int> class K>
void by_tile(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  switch (a.batch) {
    case 1: K<1>::run(p, a, r0, r1, y); break;
    case 2: K<2>::run(p, a, r0, r1, y); break;
    case 3: K<3>::run(p, a, r0, r1, y); break;
    default: K<4>::run(p, a, r0, r1, y); break;
  }
}

template <int MT>
struct F32 {
  static void run(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
    if (sop_rows_avx2_handles(p)) return sop_f32_rows_avx2(p, a, r0, r1, y);
    if (p.bits == 4)
      f32_rows4<MT>(p, a, r0, r1, y);
    else
      f32_rows_gather<MT>(p, a, r0, r1, y);
  }
};

template <int MT>
struct I8 {
  static void run(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
    i8_rows4<MT>(p, a, r0, r1, y);
  }
};

void decode_row(const PackedLayer& p, uint32_t r, float* out) {
  if (p.bits == 4)
    decode_row4(p, r, out);
  else
    portable_kernels().decode_row(p, r, out);
}

}  // namespace

const IsaKernels& avx2_kernels() {
  static const IsaKernels k{ActLayout::kElementOrder, by_tile<F32>, by_tile<I8>, decode_row};
  return k;
}

}  // namespace lutc::kernels

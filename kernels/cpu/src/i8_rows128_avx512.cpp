// AVX-512 VNNI i8 rows for 4-bit layers whose groups are exactly one chunk
// of 128 codes: int4.g128 (the codes minus an integer zero point are the
// weights' integers: no table), xfp.v2a (one of 32 shared int8 tables per
// group) and xfp.v2 (each group's codebook, rounded to int8 at pack time).
// They are the layers where the general i8 rows spend most of their time on
// per-group bookkeeping rather than on the two dot products of the group.
//
// Per row and group the vector work is: one 64-byte load, three ops to split
// the nibbles (plus two vpshufb for a table), two vpdpbusd, one convert, one
// multiply by (activation scale x group scale) and one FMA. R rows share each
// chunk's activation loads; the bias/zero-point corrections are scalar sums
// per (row, vector) that run beside the vector work.
#include <immintrin.h>

#include <vector>

#include "row_kernels.h"
#include "table16_avx512.h"

namespace lutc::kernels {
namespace {

// kInt4: no table; kLibrary: xfp.v2a, a table id per group into 32 tables
// biased once per call; kCodebook: xfp.v2, each group's own int8 table.
enum class Kind { kInt4, kLibrary, kCodebook };
constexpr int kL2PrefetchBytes = 8192;

template <Kind K, int MT, int R>
LUTC_AVX512 void tile(const PackedLayer& p, const FastActivations& a, const __m512i* tables, float* meta,
                      size_t meta_stride, uint32_t r, float* y) {
  const __m512i low4 = _mm512_set1_epi8(15);
  __m512 acc[R][MT];
  float corr[R][MT];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int m = 0; m < MT; ++m) {
      acc[i][m] = _mm512_setzero_ps();
      corr[i][m] = 0;
    }
  // int4.g128's fp16 (scale, zero) pairs widened 16 per instruction: scalar
  // conversions per group would take vector-port slots from the dot products.
  if constexpr (K == Kind::kInt4)
    for (int i = 0; i < R; ++i) row_meta(p, r + i, meta + i * meta_stride);
  const uint8_t* codes = p.indices.data() + size_t(r) * p.row_bytes;
  const size_t gpr = p.groups_per_row;
  for (uint32_t g = 0; g < p.groups_per_row; ++g) {
    __m512i lo[R], hi[R];
    float ts[R], tc[R];  // group scale; its factor on the activation correction
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const uint8_t* c = codes + size_t(i) * p.row_bytes + size_t(g) * p.group_bytes;
      // To L2, 8 KiB ahead (four rows of 4096 codes): a T0 prefetch holds an
      // L1 fill buffer until the line arrives, and with R streams in flight
      // those ran out first (one thread, int4.g128 11008x4096 from DRAM:
      // 76 % of the read bandwidth with T0, 88-92 % with T2).
      _mm_prefetch(reinterpret_cast<const char*>(c) + kL2PrefetchBytes, _MM_HINT_T2);
      const __m512i raw = _mm512_loadu_si512(c);
      lo[i] = _mm512_and_si512(raw, low4);
      hi[i] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low4);
      if constexpr (K == Kind::kInt4) {
        // sum (c - z) q d = sum c q d - z sum q d; corr holds 128 sum q d.
        ts[i] = meta[i * meta_stride + 2 * g];
        tc[i] = meta[i * meta_stride + 2 * g + 1] * (1.0f / 128);
      } else {
        // Table + 128 makes the weights unsigned; corr removes 128 sum q d.
        const size_t gi = (r + i) * gpr + g;
        __m512i t;
        if constexpr (K == Kind::kLibrary) {
          t = tables[p.group_ids[gi]];
          ts[i] = p.shared_i8_scale[p.group_ids[gi]];
        } else {
          const __m128i t8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p.group_i8.data() + 16 * gi));
          t = _mm512_broadcast_i32x4(_mm_xor_si128(t8, _mm_set1_epi8(char(0x80))));
          ts[i] = p.group_i8_scale[gi];
        }
        lo[i] = _mm512_shuffle_epi8(t, lo[i]);
        hi[i] = _mm512_shuffle_epi8(t, hi[i]);
        tc[i] = 1.0f;
      }
    }
#pragma GCC unroll 4
    for (int m = 0; m < MT; ++m) {
      const int8_t* q = a.q + m * a.q_stride + size_t(g) * kWideChunk;
      const __m512i q0 = _mm512_loadu_si512(q), q1 = _mm512_loadu_si512(q + 64);
      const __m512 d = _mm512_loadu_ps(a.d8 + m * a.d_stride + size_t(g) * 16);
      const float cg = a.corr[m * gpr + g];
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) {
        const __m512i dot = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo[i], q0), hi[i], q1);
        acc[i][m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(d, _mm512_set1_ps(ts[i])), acc[i][m]);
        corr[i][m] += ts[i] * tc[i] * cg;
      }
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int m = 0; m < MT; ++m) {
      float s = _mm512_reduce_add_ps(acc[i][m]) - corr[i][m];
      add_outliers(p, a, r + i, m, &s);
      y[size_t(m) * p.rows + r + i] = s;
    }
}

template <Kind K, int MT>
LUTC_AVX512 void rows(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  // Rows per tile: R x MT accumulators and 2R code vectors in 32 registers.
  constexpr int R = MT == 1 ? 4 : MT == 2 ? 4 : 2;
  __m512i tables[32];
  if constexpr (K == Kind::kLibrary) {
    const __m128i bias = _mm_set1_epi8(char(0x80));
    for (size_t t = 0; t < p.shared_i8_scale.size() && t < 32; ++t)
      tables[t] = _mm512_broadcast_i32x4(
          _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p.shared_i8.data() + 16 * t)), bias));
  }
  const size_t meta_stride = row_meta_count(p) + 16;
  std::vector<float> meta(meta_stride * R);
  uint32_t r = r0;
  for (; r + R <= r1; r += R) tile<K, MT, R>(p, a, tables, meta.data(), meta_stride, r, y);
  for (; r < r1; ++r) tile<K, MT, 1>(p, a, tables, meta.data(), meta_stride, r, y);
}

template <Kind K>
LUTC_AVX512 void by_batch(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  switch (a.batch) {
    case 1: rows<K, 1>(p, a, r0, r1, y); break;
    case 2: rows<K, 2>(p, a, r0, r1, y); break;
    case 3: rows<K, 3>(p, a, r0, r1, y); break;
    default: rows<K, 4>(p, a, r0, r1, y); break;
  }
}

}  // namespace

bool i8_rows128_avx512_handles(const PackedLayer& p) {
  if (p.bits != 4 || p.group != kWideChunk || p.group_padded != kWideChunk || p.group_bytes != kWideChunk / 2)
    return false;
  // int4.g128 zero points are integers 0..15 (validate() refuses others).
  return p.scheme == Scheme::kInt4G128 || (p.scheme == Scheme::kXfpV2 && !p.group_i8.empty()) ||
         (p.scheme == Scheme::kXfpV2a && p.shared_i8_scale.size() <= 32);
}

void i8_rows128_avx512(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  if (p.scheme == Scheme::kXfpV2a)
    by_batch<Kind::kLibrary>(p, a, r0, r1, y);
  else if (p.scheme == Scheme::kXfpV2)
    by_batch<Kind::kCodebook>(p, a, r0, r1, y);
  else
    by_batch<Kind::kInt4>(p, a, r0, r1, y);
}

}  // namespace lutc::kernels

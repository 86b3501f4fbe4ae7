#pragma once
// AVX-512 pieces shared by the fast and the exact kernels.
#include <immintrin.h>

#include <cstddef>

#include "lutc/kernels/cpu/packed_layer.h"

// GCC 12's AVX-512 headers start reductions and narrowing conversions from
// _mm512_undefined_*(), which -W(maybe-)uninitialized reports at every use.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#define LUTC_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

namespace lutc::kernels {

// The group's table built with the golden decode's fp32 operations, lane by lane.
LUTC_AVX512 inline __m512 table16(const PackedLayer& p, uint32_t r, uint32_t g) {
  const size_t gi = size_t(r) * p.groups_per_row + g;
  switch (p.scheme) {
    case Scheme::kXfpV2:
      return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.group_half.data() + gi * 16)));
    case Scheme::kXfpV2a: return _mm512_loadu_ps(p.shared.data() + size_t(p.group_ids[gi]) * 16);
    case Scheme::kInt4G128: {
      const __m512 s = _mm512_set1_ps(_cvtsh_ss(p.group_half[2 * gi]));
      const __m512 z = _mm512_set1_ps(_cvtsh_ss(p.group_half[2 * gi + 1]));
      const __m512 iota = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
      return _mm512_mul_ps(s, _mm512_sub_ps(iota, z));
    }
    case Scheme::kNf4B64:
      return _mm512_mul_ps(_mm512_loadu_ps(p.shared.data()), _mm512_set1_ps(_cvtsh_ss(p.group_half[gi])));
    case Scheme::kSop: {
      const unsigned c = sop_code(p, gi);
      return _mm512_mul_ps(_mm512_loadu_ps(p.shared.data() + size_t(p.sop_book[c]) * 16),
                           _mm512_set1_ps(p.sop_scale[c]));
    }
    default: return _mm512_setzero_ps();
  }
}

// The row's fp16 group metadata widened to fp32, 16 values per instruction
// (int4.g128: scale, zero pairs; nf4.b64: absmax), so the per-group table
// needs broadcasts instead of two scalar conversions. Other schemes: nothing.
inline size_t row_meta_count(const PackedLayer& p) {
  return p.scheme == Scheme::kInt4G128 ? 2 * size_t(p.groups_per_row)
         : p.scheme == Scheme::kNf4B64 ? size_t(p.groups_per_row)
                                       : 0;
}

LUTC_AVX512 inline void row_meta(const PackedLayer& p, uint32_t r, float* out) {
  const size_t n = row_meta_count(p);
  const uint16_t* src = p.group_half.data() + size_t(r) * n;
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(out + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, src + i)));
  }
}

// table16 from the widened metadata: the same fp32 operations, lane by lane.
LUTC_AVX512 inline __m512 table16_meta(const PackedLayer& p, uint32_t r, uint32_t g, const float* meta) {
  switch (p.scheme) {
    case Scheme::kInt4G128: {
      const __m512 iota = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
      return _mm512_mul_ps(_mm512_set1_ps(meta[2 * g]), _mm512_sub_ps(iota, _mm512_set1_ps(meta[2 * g + 1])));
    }
    case Scheme::kNf4B64: return _mm512_mul_ps(_mm512_loadu_ps(p.shared.data()), _mm512_set1_ps(meta[g]));
    default: return table16(p, r, g);
  }
}

}  // namespace lutc::kernels

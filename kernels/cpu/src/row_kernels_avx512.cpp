// AVX-512 kernels (F, BW, VL, DQ, VNNI). 4-bit codes: the group's 16 fp32
// table entries live in one register and vpermps is the decode; the i8 path
// shuffles a 16-byte int8 table with vpshufb and multiplies with vpdpbusd.
// Other widths gather from the group's table in L1.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "group_table.h"
#include "row_kernels.h"
#include "table16_avx512.h"

namespace lutc::kernels {
namespace {

// The 32 codes of a block as two vpermps index vectors, x in the wide order
// (row_kernels.h): the 16 code bytes are broadcast to all four 128-bit lanes
// (a load, no shuffle) and each lane shifts its nibble down; vpermps reads
// only the low 4 bits of an index. Shuffles, the scarce port here, drop to the
// two lookups per 32 weights.
struct WideShifts {
  __m512i s0, s1;
};

LUTC_AVX512 inline WideShifts wide_shifts() {
  const __m512i s0 = _mm512_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12);
  return {s0, _mm512_add_epi32(s0, _mm512_set1_epi32(16))};
}

// One row. Four accumulators per vector: FMA latency, not throughput, would
// bound a single chain per 16 lanes.
template <int MT>
LUTC_AVX512 void f32_row4(const PackedLayer& p, const FastActivations& a, const WideShifts& sh, uint32_t r, float* meta,
                          float* y) {
  __m512 acc[MT][4];
  for (int m = 0; m < MT; ++m)
    for (int u = 0; u < 4; ++u) acc[m][u] = _mm512_setzero_ps();
  const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
  row_meta(p, r, meta);
  for (uint32_t g = 0; g < p.groups_per_row; ++g) {
    const __m512 t = table16_meta(p, r, g, meta);
    const uint8_t* src = row + size_t(g) * p.group_bytes;
    const float* xg = a.x + size_t(g) * p.group_padded;
    uint32_t b = 0;
    for (; b + 2 * kBlock <= p.group_padded; b += 2 * kBlock) {
      if ((b & 127) == 0) _mm_prefetch(reinterpret_cast<const char*>(src + b / 2) + kPrefetchBytes, _MM_HINT_T0);
      const __m512i v0 = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + b / 2)));
      const __m512i v1 = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + b / 2 + 16)));
      const __m512 w0 = _mm512_permutexvar_ps(_mm512_srlv_epi32(v0, sh.s0), t);
      const __m512 w1 = _mm512_permutexvar_ps(_mm512_srlv_epi32(v0, sh.s1), t);
      const __m512 w2 = _mm512_permutexvar_ps(_mm512_srlv_epi32(v1, sh.s0), t);
      const __m512 w3 = _mm512_permutexvar_ps(_mm512_srlv_epi32(v1, sh.s1), t);
      for (int m = 0; m < MT; ++m) {
        const float* x = xg + m * a.stride + b;
        acc[m][0] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x), acc[m][0]);
        acc[m][1] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + 16), acc[m][1]);
        acc[m][2] = _mm512_fmadd_ps(w2, _mm512_loadu_ps(x + 32), acc[m][2]);
        acc[m][3] = _mm512_fmadd_ps(w3, _mm512_loadu_ps(x + 48), acc[m][3]);
      }
    }
    if (b < p.group_padded) {  // one block left
      const __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + b / 2)));
      const __m512 w0 = _mm512_permutexvar_ps(_mm512_srlv_epi32(v, sh.s0), t);
      const __m512 w1 = _mm512_permutexvar_ps(_mm512_srlv_epi32(v, sh.s1), t);
      for (int m = 0; m < MT; ++m) {
        const float* x = xg + m * a.stride + b;
        acc[m][0] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x), acc[m][0]);
        acc[m][1] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + 16), acc[m][1]);
      }
    }
  }
  for (int m = 0; m < MT; ++m) {
    float s =
        _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[m][0], acc[m][1]), _mm512_add_ps(acc[m][2], acc[m][3])));
    add_outliers(p, a, r, m, &s);
    y[size_t(m) * p.rows + r] = s;
  }
}

// R rows r .. r + R - 1 against MT vectors: each activation load feeds R
// rows' FMAs. Row by row, a batch re-read all MT vectors from L2 per row
// (MT x 16 KiB at K = 4096 leaves L1), and those loads, not the FMAs, set
// the speed. One accumulator per (row, vector): R x MT >= 4 independent
// chains already cover the FMA latency, and the registers go to the R
// tables and 2R decoded weight vectors.
template <int MT, int R>
LUTC_AVX512 void f32_rows4_tile(const PackedLayer& p, const FastActivations& a, const WideShifts& sh, uint32_t r,
                                float* meta, size_t meta_stride, float* y) {
  __m512 acc[R][MT];
  const uint8_t* row[R];
  for (int i = 0; i < R; ++i) {
    for (int m = 0; m < MT; ++m) acc[i][m] = _mm512_setzero_ps();
    row[i] = p.indices.data() + size_t(r + i) * p.row_bytes;
    row_meta(p, r + i, meta + i * meta_stride);
  }
  const bool books = p.scheme == Scheme::kXfpV2;
  for (uint32_t g = 0; g < p.groups_per_row; ++g) {
    if (books) prefetch_v2_codebooks<R>(p, r, g);
    __m512 t[R];
    for (int i = 0; i < R; ++i) t[i] = table16_meta(p, r + i, g, meta + i * meta_stride);
    const size_t src = size_t(g) * p.group_bytes;
    const float* xg = a.x + size_t(g) * p.group_padded;
    for (uint32_t b = 0; b < p.group_padded; b += kBlock) {
      __m512 w0[R], w1[R];
      for (int i = 0; i < R; ++i) {
        const uint8_t* c = row[i] + src + b / 2;
        if ((b & 127) == 0) _mm_prefetch(reinterpret_cast<const char*>(c) + kPrefetchBytes, _MM_HINT_T0);
        const __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c)));
        w0[i] = _mm512_permutexvar_ps(_mm512_srlv_epi32(v, sh.s0), t[i]);
        w1[i] = _mm512_permutexvar_ps(_mm512_srlv_epi32(v, sh.s1), t[i]);
      }
      for (int m = 0; m < MT; ++m) {
        const float* x = xg + m * a.stride + b;
        const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
        for (int i = 0; i < R; ++i) acc[i][m] = _mm512_fmadd_ps(w0[i], x0, acc[i][m]);
        for (int i = 0; i < R; ++i) acc[i][m] = _mm512_fmadd_ps(w1[i], x1, acc[i][m]);
      }
    }
  }
  for (int i = 0; i < R; ++i)
    for (int m = 0; m < MT; ++m) {
      float s = _mm512_reduce_add_ps(acc[i][m]);
      add_outliers(p, a, r + i, m, &s);
      y[size_t(m) * p.rows + r + i] = s;
    }
}

template <int MT>
LUTC_AVX512 void f32_rows4(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  // Rows per tile, measured (one Zen 4 thread, int4.g128 11008x4096): R x MT
  // accumulators, R tables and 2R weights must fit the 32 registers, and one
  // row more than fits spills and costs 1.2-1.5x. Batch 1 gains too (1.78 ->
  // 1.17 ms): six interleaved rows hide the per-group table and the
  // per-row reduction that one row at a time left on the critical path.
  constexpr int R = MT == 1 ? 6 : MT == 2 ? 5 : 4;
  const WideShifts sh = wide_shifts();
  const size_t meta_stride = row_meta_count(p) + 16;
  std::vector<float> meta(meta_stride * R);
  uint32_t r = r0;
  if constexpr (R > 1)
    for (; r + R <= r1; r += R) f32_rows4_tile<MT, R>(p, a, sh, r, meta.data(), meta_stride, y);
  for (; r < r1; ++r) f32_row4<MT>(p, a, sh, r, meta.data(), y);
}

// Any width: codes unpacked per group, values gathered from the group's table.
template <int MT>
LUTC_AVX512 void f32_rows_gather(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  std::vector<float> table(size_t(1) << p.bits);
  std::vector<uint8_t> buf(std::max<uint32_t>(p.group_padded, 16));
  // A dense b8 group (sop with 2, 3, 5 or 8-bit codes) fills half a vector;
  // the other half reads the next group's activations, against weight 0.
  const __mmask16 lanes = p.group_padded < 16 ? __mmask16((1u << p.group_padded) - 1) : __mmask16(0xffff);
  for (uint32_t r = r0; r < r1; ++r) {
    __m512 acc[MT];
    for (int m = 0; m < MT; ++m) acc[m] = _mm512_setzero_ps();
    for (uint32_t g = 0; g < p.groups_per_row; ++g) {
      // sop: gather from the block's codebook and apply its scale, the golden
      // decode's one product, instead of building 2^b entries for B elements.
      const float* tbl = table.data();
      __m512 scale = _mm512_set1_ps(1.0f);
      const bool sop = p.scheme == Scheme::kSop;
      if (sop) {
        const unsigned c = sop_code(p, size_t(r) * p.groups_per_row + g);
        tbl = p.shared.data() + size_t(p.sop_book[c]) * table.size();
        scale = _mm512_set1_ps(p.sop_scale[c]);
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
      const uint32_t kn = (p.group + 15) / 16 * 16;
      for (uint32_t k = 0; k < kn; k += 16) {
        const __m512i idx = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + k)));
        __m512 w = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lanes, idx, tbl, 4);
        if (sop) w = _mm512_mul_ps(w, scale);
        for (int m = 0; m < MT; ++m) acc[m] = _mm512_fmadd_ps(w, _mm512_loadu_ps(xg + m * a.stride + k), acc[m]);
      }
    }
    for (int m = 0; m < MT; ++m) {
      float s = _mm512_reduce_add_ps(acc[m]);
      add_outliers(p, a, r, m, &s);
      y[size_t(m) * p.rows + r] = s;
    }
  }
}

// fp8.e4m3 without a table: (code & 0x7f) << 20 read as fp32 is e4m3(code) *
// 2^-120 for normals and subnormals alike (the e4m3 exponent lands in the
// fp32 exponent field), bit 7 is the sign; one exact multiply by 2^120 makes
// it e4m3(code). The layer's 2^layer_scale_exp is applied once per row.
template <int MT>
LUTC_AVX512 void f32_rows_fp8(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  const __m512i mag = _mm512_set1_epi32(0x7f), sign = _mm512_set1_epi32(0x80);
  const __m512 up = _mm512_set1_ps(0x1p120f);
  const double layer_scale = std::ldexp(1.0, p.layer_scale_exp);
  for (uint32_t r = r0; r < r1; ++r) {
    __m512 acc[MT][2];
    for (int m = 0; m < MT; ++m) acc[m][0] = acc[m][1] = _mm512_setzero_ps();
    const uint8_t* codes = p.indices.data() + size_t(r) * p.row_bytes;
    for (uint32_t k = 0; k < p.group_padded; k += 16) {
      const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + k)));
      const __m512i bits = _mm512_or_si512(_mm512_slli_epi32(_mm512_and_si512(v, mag), 20),
                                           _mm512_slli_epi32(_mm512_and_si512(v, sign), 24));
      const __m512 w = _mm512_mul_ps(_mm512_castsi512_ps(bits), up);
      for (int m = 0; m < MT; ++m)
        acc[m][(k / 16) & 1] = _mm512_fmadd_ps(w, _mm512_loadu_ps(a.x + m * a.stride + k), acc[m][(k / 16) & 1]);
    }
    for (int m = 0; m < MT; ++m) {
      float s = float(double(_mm512_reduce_add_ps(_mm512_add_ps(acc[m][0], acc[m][1]))) * layer_scale);
      add_outliers(p, a, r, m, &s);
      y[size_t(m) * p.rows + r] = s;
    }
  }
}

// The i8 table of a group in registers: the same values as group_table_i8,
// which the schemes not listed here still call.
LUTC_AVX512 inline float table16_i8(const PackedLayer& p, uint32_t r, uint32_t g, const float* meta, __m128i* t8) {
  const size_t gi = size_t(r) * p.groups_per_row + g;
  switch (p.scheme) {
    case Scheme::kInt4G128: {
      const float z = meta[2 * g + 1];
      const int zi = int(z);
      if (float(zi) != z || zi < 0 || zi > 15) break;
      *t8 = _mm_sub_epi8(_mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm_set1_epi8(char(zi)));
      return meta[2 * g];
    }
    case Scheme::kNf4B64:
      *t8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p.shared_i8.data()));
      return p.shared_i8_scale[0] * meta[g];
    case Scheme::kXfpV2a: {
      const unsigned id = p.group_ids[gi];
      *t8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p.shared_i8.data() + 16 * id));
      return p.shared_i8_scale[id];
    }
    case Scheme::kSop: {
      const unsigned c = sop_code(p, gi);
      *t8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p.shared_i8.data() + 16 * p.sop_book[c]));
      return p.shared_i8_scale[p.sop_book[c]] * p.sop_scale[c];
    }
    case Scheme::kXfpV2:  // rounded at pack time
      *t8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p.group_i8.data() + 16 * gi));
      return p.group_i8_scale[gi];
    default: break;
  }
  alignas(16) int8_t t[16];
  const float ts = group_table_i8(p, r, g, t);
  *t8 = _mm_load_si128(reinterpret_cast<const __m128i*>(t));
  return ts;
}

// int4.g128 group whose zero point is an integer 0..15 (always, from the quantizer).
inline bool int4_direct(const PackedLayer& p, uint32_t g, const float* meta, float* zero) {
  if (p.scheme != Scheme::kInt4G128) return false;
  const float z = meta[2 * g + 1];
  *zero = z;
  return z == float(int(z)) && z >= 0 && z <= 15;
}

// Chunks of 128 weights: 64 code bytes, low nibbles = elements 0-15 of four
// blocks, high nibbles = elements 16-31; q is stored in that order, so two
// vpshufb and two vpdpbusd cover the chunk and every int32 lane stays inside
// one block (its scale is d8's lane). A short last chunk masks its loads.
template <int MT>
LUTC_AVX512 void i8_rows4(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  const __m512i low4 = _mm512_set1_epi8(15);
  const __m128i bias = _mm_set1_epi8(char(0x80));
  std::vector<float> meta(row_meta_count(p) + 16);
  for (uint32_t r = r0; r < r1; ++r) {
    __m512 acc[MT];
    for (int m = 0; m < MT; ++m) acc[m] = _mm512_setzero_ps();
    const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
    row_meta(p, r, meta.data());
    for (uint32_t g = 0; g < p.groups_per_row; ++g) {
      // int4.g128 with an integer zero needs no table: sum (c - z) q =
      // sum c q - z sum q, and the codes c are already unsigned bytes.
      float zero = 0, ts;
      __m512i tu = _mm512_setzero_si512();
      const bool direct = int4_direct(p, g, meta.data(), &zero);
      if (direct) {
        ts = meta[2 * g];
      } else {
        __m128i t8;
        ts = table16_i8(p, r, g, meta.data(), &t8);
        // +128 makes the weights unsigned for vpdpbusd; corr removes 128 * sum(q).
        tu = _mm512_broadcast_i32x4(_mm_xor_si128(t8, bias));
      }
      if (ts == 0) continue;  // the group contributes exactly 0
      const uint8_t* src = row + size_t(g) * p.group_bytes;
      const int8_t* qg = a.q + size_t(g) * a.q_group;
      const float* dg = a.d8 + size_t(g) * (a.q_group / kBlock) * 4;
      __m512 accg[MT];
      for (int m = 0; m < MT; ++m) accg[m] = _mm512_setzero_ps();
      for (uint32_t e = 0; e < p.group_padded; e += kWideChunk) {
        // Plain loads where possible (64-element groups, nf4.b64, load half a
        // chunk): masked loads stall the stream from DRAM.
        const uint32_t left = p.group_padded - e;
        _mm_prefetch(reinterpret_cast<const char*>(src + e / 2) + kPrefetchBytes, _MM_HINT_T0);
        const __m512i raw =
            left >= kWideChunk ? _mm512_loadu_si512(src + e / 2)
            : left == kWideChunk / 2
                ? _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + e / 2)))
                : _mm512_maskz_loadu_epi8((__mmask64(1) << (left / 2)) - 1, src + e / 2);
        __m512i wlo = _mm512_and_si512(raw, low4);
        __m512i whi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low4);
        if (!direct) {
          wlo = _mm512_shuffle_epi8(tu, wlo);
          whi = _mm512_shuffle_epi8(tu, whi);
        }
        for (int m = 0; m < MT; ++m) {
          const int8_t* q = qg + m * a.q_stride + e;
          __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wlo, _mm512_loadu_si512(q));
          dot = _mm512_dpbusd_epi32(dot, whi, _mm512_loadu_si512(q + 64));
          const __m512 d = _mm512_loadu_ps(dg + m * a.d_stride + e / kBlock * 4);
          accg[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), d, accg[m]);
        }
      }
      // The bias correction rides in lane 0, so no scalar chain runs across groups.
      for (int m = 0; m < MT; ++m) {
        const float c = a.corr[m * p.groups_per_row + g] * (direct ? zero * (1.0f / 128) : 1.0f);
        accg[m] = _mm512_mask_sub_ps(accg[m], 1, accg[m], _mm512_set1_ps(c));
        acc[m] = _mm512_fmadd_ps(accg[m], _mm512_set1_ps(ts), acc[m]);
      }
    }
    for (int m = 0; m < MT; ++m) {
      float s = _mm512_reduce_add_ps(acc[m]);
      add_outliers(p, a, r, m, &s);
      y[size_t(m) * p.rows + r] = s;
    }
  }
}

LUTC_AVX512 void decode_row4(const PackedLayer& p, uint32_t r, float* out) {
  const __m512i low4 = _mm512_set1_epi32(15);
  const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
  if (p.dense()) {
    // 16 elements at a time: one group, or two (b8: the second in lanes 8-15).
    for (uint32_t e = 0; e < p.cols; e += 16) {
      const uint32_t g = e / p.group;
      __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + e / kBlock * 16)));
      if (e % kBlock) v = _mm512_srli_epi32(v, 4);
      __m512 w = _mm512_permutexvar_ps(v, table16(p, r, g));
      if (p.group < 16 && g + 1 < p.groups_per_row) w = _mm512_mask_permutexvar_ps(w, 0xff00, v, table16(p, r, g + 1));
      const uint32_t rem = p.cols - e;
      _mm512_mask_storeu_ps(out + e, rem >= 16 ? __mmask16(0xffff) : __mmask16((1u << rem) - 1), w);
    }
    put_outliers(p, r, out);
    return;
  }
  for (uint32_t g = 0; g < p.groups_per_row; ++g) {
    const __m512 t = table16(p, r, g);
    const uint8_t* src = row + size_t(g) * p.group_bytes;
    const uint32_t k0 = g * p.group, n = std::min(p.group, p.cols - k0);
    for (uint32_t b = 0; b < n; b += kBlock) {
      const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + b / 2)));
      const uint32_t rem = n - b;
      const __mmask16 mlo = rem >= 16 ? 0xffff : __mmask16((1u << rem) - 1);
      const __mmask16 mhi = rem >= 32 ? 0xffff : rem > 16 ? __mmask16((1u << (rem - 16)) - 1) : 0;
      _mm512_mask_storeu_ps(out + k0 + b, mlo, _mm512_permutexvar_ps(_mm512_and_si512(v, low4), t));
      _mm512_mask_storeu_ps(out + k0 + b + 16, mhi, _mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), t));
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
    if (sop_rows_avx512_handles(p))
      sop_f32_rows_avx512(p, a, r0, r1, y);
    else if (p.bits == 4)
      f32_rows4<MT>(p, a, r0, r1, y);
    else if (p.scheme == Scheme::kFp8E4M3)
      f32_rows_fp8<MT>(p, a, r0, r1, y);
    else
      f32_rows_gather<MT>(p, a, r0, r1, y);
  }
};

template <int MT>
struct I8 {
  static void run(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
    if (sop_i8_avx512_handles(p))
      sop_i8_rows_avx512(p, a, r0, r1, y);
    else if (i8_rows128_avx512_handles(p))
      i8_rows128_avx512(p, a, r0, r1, y);
    else
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

const IsaKernels& avx512_kernels() {
  static const IsaKernels k{ActLayout::kWide, by_tile<F32>, by_tile<I8>, decode_row};
  return k;
}

}  // namespace lutc::kernels

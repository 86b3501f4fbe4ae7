// AVX-512 VNNI i8 rows for sop layers with 4-bit codes, every block size
// (the dense b8/b16 layout and b32/b64 alike: in both, a row's codes are
// blocks of 32 elements in element order, group g at elements g*B ...).
//
// A row is walked in chunks of 128 elements, 64 code bytes: the low nibbles
// are elements 0-15 of the chunk's four blocks (one per 128-bit lane), the
// high nibbles elements 16-31. Per chunk:
//  - weights: AND / shift, two vpshufb on the codebook rounded to int8 once
//    (shared_i8, biased by +128 so it is vpdpbusd's unsigned operand); two
//    books: the book-1 bytes are looked up again under a byte mask made from
//    the groups' selection bits.
//  - dot products: vpdpbusd against the int8 activations stored in the same
//    nibble order (ActLayout::kSopChunks). Each int32 lane sums 4 weights of
//    one group and one activation block, and starts from -128 * (its 4
//    activations' sum), so the +128 bias is gone without a per-group term.
//  - scales: one gather of the chunk's groups' scales (the block's signed
//    scale times its book's int8 scale, a table of every scale code made
//    once per call), spread to the lanes of each group by vpermps, times the
//    activation blocks' scales; one vcvtdq2ps + FMA per 16 lanes.
// b32/b64 put a whole block into one group, so its low and high nibble dot
// products share lanes and scales: one conversion per 128 weights.
#include <immintrin.h>

#include <array>
#include <cstring>
#include <vector>

#include "row_kernels.h"
#include "table16_avx512.h"

namespace lutc::kernels {
namespace {

constexpr uint32_t kChunk = kSopChunk;  // elements per step
constexpr uint32_t kChunkBytes = kChunk / 2;

// Element (0..127) of the chunk that dword lane i (0..15) of the low (hi =
// false) or high nibble dot product starts at: lane i = 4L + d covers bytes
// 4d..4d+3 of 128-bit lane L, elements 32L + 4d .. (+16 for high nibbles).
constexpr uint32_t lane_element(uint32_t i, bool hi) { return 32 * (i / 4) + (hi ? 16 : 0) + 4 * (i % 4); }
// Element of byte b (0..63) of the low / high nibbles.
constexpr uint32_t byte_element(uint32_t b, bool hi) { return 32 * (b / 16) + (hi ? 16 : 0) + b % 16; }

// The group (0 .. groups per chunk - 1) of each dot lane, as vpermps indices.
template <uint32_t G>
LUTC_AVX512 inline __m512i lane_groups(bool hi) {
  alignas(64) int32_t v[16];
  for (uint32_t i = 0; i < 16; ++i) v[i] = int32_t(lane_element(i, hi) / G);
  return _mm512_load_si512(v);
}

// Byte masks of the book-1 bytes, by the chunk's selection bits (one bit per
// group): [groups][low, high nibbles].
template <uint32_t G>
struct BookMasks {
  static constexpr uint32_t kGroups = kChunk / G;
  // G = 8 has 16 groups: two tables of 8 bits, one per half chunk.
  static constexpr uint32_t kBits = kGroups > 8 ? 8 : kGroups;
  std::array<std::array<uint64_t, 2>, (1u << kBits)> m{};
  BookMasks() {
    for (uint32_t s = 0; s < (1u << kBits); ++s)
      for (int h = 0; h < 2; ++h)
        for (uint32_t b = 0; b < (kGroups > 8 ? 32u : 64u); ++b)
          if ((s >> (byte_element(b, h == 1) / G)) & 1) m[s][size_t(h)] |= uint64_t(1) << b;
  }
  void get(uint32_t sel, __mmask64* lo, __mmask64* hi) const {
    if constexpr (kGroups > 8) {  // the upper half chunk's groups 8..15 shifted down
      *lo = m[sel & 0xff][0] | m[sel >> 8][0] << 32;
      *hi = m[sel & 0xff][1] | m[sel >> 8][1] << 32;
    } else {
      *lo = m[sel][0];
      *hi = m[sel][1];
    }
  }
};

// Everything a row range needs besides the row itself.
template <uint32_t G>
struct Ctx {
  __m512i low4, lanes_lo, lanes_hi, sel_bit;
  __m512i book0, book1;  // int8 + 128, the 16 entries in every 128-bit lane
  const float* ts;       // per scale code: signed block scale x its book's int8 scale
  const BookMasks<G>* masks;
  LUTC_AVX512 Ctx(const PackedLayer& p, const float* ts_of, const BookMasks<G>* m) : ts(ts_of), masks(m) {
    low4 = _mm512_set1_epi8(15);
    lanes_lo = lane_groups<G>(false);
    lanes_hi = lane_groups<G>(true);
    sel_bit = _mm512_set1_epi32(int32_t(p.sop_sel_mask));
    const __m128i bias = _mm_set1_epi8(char(0x80));
    auto book = [&](size_t k) LUTC_AVX512 {
      return _mm512_broadcast_i32x4(
          _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p.shared_i8.data() + 16 * k)), bias));
    };
    book0 = book(0);
    book1 = book(p.shared_i8.size() > 16 ? 1 : 0);
  }
};

// The chunk's group scale codes as dword lanes 0 .. kGroups - 1 (exactly
// their bytes are read: the codes array has no slack past its end).
template <uint32_t G, class Code>
LUTC_AVX512 inline __m512i chunk_codes(const Code* c) {
  if constexpr (sizeof(Code) == 1) {
    if constexpr (G == 8) return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c)));
    if constexpr (G == 16)
      return _mm512_castsi256_si512(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c))));
    if constexpr (G == 32) {
      uint32_t v;
      std::memcpy(&v, c, 4);
      return _mm512_castsi128_si512(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(int(v))));
    }
    return _mm512_castsi128_si512(_mm_setr_epi32(c[0], c[1], 0, 0));
  } else {
    if constexpr (G == 8) return _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c)));
    if constexpr (G == 16)
      return _mm512_castsi256_si512(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c))));
    if constexpr (G == 32)
      return _mm512_castsi128_si512(_mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c))));
    return _mm512_castsi128_si512(_mm_setr_epi32(c[0], c[1], 0, 0));
  }
}

// The chunk's group scales (ts of each code) in dword lanes 0 .. kGroups - 1.
template <uint32_t G>
LUTC_AVX512 inline __m512 chunk_scales(const float* ts, __m512i codes) {
  if constexpr (G == 8) return _mm512_i32gather_ps(codes, ts, 4);
  if constexpr (G == 16) return _mm512_castps256_ps512(_mm256_i32gather_ps(ts, _mm512_castsi512_si256(codes), 4));
  return _mm512_castps128_ps512(_mm_i32gather_ps(ts, _mm512_castsi512_si128(codes), 4));
}

// Rows r .. r + R - 1 against MT vectors. The weights of a chunk are decoded
// once per row and feed every vector; each activation load feeds R rows.
template <uint32_t G, bool PAIRED, int MT, int R, class Code>
LUTC_AVX512 void sop_i8_tile(const PackedLayer& p, const FastActivations& a, const Ctx<G>& cx, const Code* codes,
                             uint32_t r, float* y) {
  constexpr uint32_t kGroups = kChunk / G;
  constexpr bool kSplit = G < 32;        // low and high nibbles in different groups
  constexpr int C = R * MT < 4 ? 2 : 1;  // accumulators per (row, vector): FMA latency
  const uint32_t gpr = p.groups_per_row, chunks = (p.padded_cols() + kChunk - 1) / kChunk;
  const uint32_t full = gpr / kGroups;  // chunks whose groups all exist
  __m512 acc[R][MT][C];
  const uint8_t* row[R];
  const Code* sc[R];
  for (int i = 0; i < R; ++i) {
    for (int m = 0; m < MT; ++m)
      for (int c = 0; c < C; ++c) acc[i][m][c] = _mm512_setzero_ps();
    row[i] = p.indices.data() + size_t(r + i) * p.row_bytes;
    sc[i] = codes + size_t(r + i) * gpr;
  }
  // Chunk k of every row into accumulator c (a constant once inlined, so
  // the accumulators stay in registers); chunk_code_vec(i) gives row i's
  // group codes there.
  auto step = [&](uint32_t k, int c, auto chunk_code_vec) LUTC_AVX512 {
    __m512i wlo[R], whi[R];
    __m512 slo[R], shi[R];
    for (int i = 0; i < R; ++i) {
      const uint8_t* src = row[i] + size_t(k) * kChunkBytes;
      _mm_prefetch(reinterpret_cast<const char*>(src) + kSopPrefetchBytes, _MM_HINT_T1);
      const __m512i raw = _mm512_loadu_si512(src);
      const __m512i lo = _mm512_and_si512(raw, cx.low4);
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), cx.low4);
      wlo[i] = _mm512_shuffle_epi8(cx.book0, lo);
      whi[i] = _mm512_shuffle_epi8(cx.book0, hi);
      const __m512i cv = chunk_code_vec(i);
      if constexpr (PAIRED) {
        __mmask64 mlo, mhi;
        cx.masks->get(uint32_t(_mm512_test_epi32_mask(cv, cx.sel_bit)), &mlo, &mhi);
        wlo[i] = _mm512_mask_shuffle_epi8(wlo[i], mlo, cx.book1, lo);
        whi[i] = _mm512_mask_shuffle_epi8(whi[i], mhi, cx.book1, hi);
      }
      const __m512 s = chunk_scales<G>(cx.ts, cv);
      slo[i] = _mm512_permutexvar_ps(cx.lanes_lo, s);
      if constexpr (kSplit) shi[i] = _mm512_permutexvar_ps(cx.lanes_hi, s);
    }
    for (int m = 0; m < MT; ++m) {
      const int8_t* q = a.q + m * a.q_stride + size_t(k) * kChunk;
      const int32_t* nb = a.nb + m * a.nb_stride + size_t(k) * (kSplit ? 32 : 16);
      const __m512i qlo = _mm512_loadu_si512(q), qhi = _mm512_loadu_si512(q + 64);
      const __m512 d = _mm512_loadu_ps(a.d8 + m * a.d_stride + size_t(k) * 16);
      for (int i = 0; i < R; ++i) {
        if constexpr (kSplit) {
          const __m512i dlo = _mm512_dpbusd_epi32(_mm512_loadu_si512(nb), wlo[i], qlo);
          const __m512i dhi = _mm512_dpbusd_epi32(_mm512_loadu_si512(nb + 16), whi[i], qhi);
          acc[i][m][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dlo), _mm512_mul_ps(slo[i], d), acc[i][m][0]);
          acc[i][m][C - 1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dhi), _mm512_mul_ps(shi[i], d), acc[i][m][C - 1]);
        } else {
          const __m512i dot =
              _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_loadu_si512(nb), wlo[i], qlo), whi[i], qhi);
          acc[i][m][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(slo[i], d), acc[i][m][c]);
        }
      }
    }
  };
  auto whole = [&](uint32_t k, int c) LUTC_AVX512 {
    step(k, c, [&](int i) LUTC_AVX512 { return chunk_codes<G>(sc[i] + size_t(k) * kGroups); });
  };
  uint32_t k = 0;
  for (; k + 1 < full; k += 2) {
    whole(k, 0);
    whole(k + 1, C - 1);
  }
  if (k < full) whole(k++, 0);
  if (k < chunks) {  // the row's last chunk holds fewer groups: theirs, then code 0 (zero activations there)
    Code tail[R][kGroups] = {};
    for (int i = 0; i < R; ++i) std::memcpy(tail[i], sc[i] + size_t(k) * kGroups, (gpr % kGroups) * sizeof(Code));
    step(k, C - 1, [&](int i) LUTC_AVX512 { return chunk_codes<G>(tail[i]); });
  }
  for (int i = 0; i < R; ++i)
    for (int m = 0; m < MT; ++m) {
      float s = _mm512_reduce_add_ps(C == 1 ? acc[i][m][0] : _mm512_add_ps(acc[i][m][0], acc[i][m][C - 1]));
      add_outliers(p, a, r + i, m, &s);
      y[size_t(m) * p.rows + r + i] = s;
    }
}

template <uint32_t G, bool PAIRED, int MT>
LUTC_AVX512 void sop_i8_rows(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  // Two rows per tile at every batch: each vector's activations, scales and
  // bias words (about 2.5 bytes of side data per activation) then feed two
  // rows, which is what bounds the larger tiles; 2048 x 2048 in L2, one
  // thread, G weights/s with one row -> two: batch 2 16.3 -> 17.4, batch 4
  // 10.0 -> 11.8, batch 8 5.8 -> 7.0.
  constexpr int R = 2;
  static const BookMasks<G> masks;
  // Each scale code's signed scale times its book's int8 scale, once per call.
  std::vector<float> ts(p.sop_scale.size());
  for (size_t c = 0; c < ts.size(); ++c) ts[c] = p.shared_i8_scale[p.sop_book[c]] * p.sop_scale[c];
  const Ctx<G> cx(p, ts.data(), &masks);
  with_sop_codes(p, [&](const auto* codes) LUTC_AVX512 {
    uint32_t r = r0;
    if constexpr (R > 1)
      for (; r + R <= r1; r += R) sop_i8_tile<G, PAIRED, MT, R>(p, a, cx, codes, r, y);
    for (; r < r1; ++r) sop_i8_tile<G, PAIRED, MT, 1>(p, a, cx, codes, r, y);
  });
}

template <uint32_t G, bool PAIRED>
void sop_i8_batch(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  switch (a.batch) {
    case 1: sop_i8_rows<G, PAIRED, 1>(p, a, r0, r1, y); break;
    case 2: sop_i8_rows<G, PAIRED, 2>(p, a, r0, r1, y); break;
    case 3: sop_i8_rows<G, PAIRED, 3>(p, a, r0, r1, y); break;
    case 4: sop_i8_rows<G, PAIRED, 4>(p, a, r0, r1, y); break;
    default: sop_i8_rows<G, PAIRED, 8>(p, a, r0, r1, y); break;  // kWideBatchTile
  }
}

template <uint32_t G>
void sop_i8_books(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  if (p.shared.size() > 16)
    sop_i8_batch<G, true>(p, a, r0, r1, y);
  else
    sop_i8_batch<G, false>(p, a, r0, r1, y);
}

}  // namespace

bool sop_i8_avx512_handles(const PackedLayer& p) {
  return p.scheme == Scheme::kSop && p.bits == 4 && (p.group == 8 || p.group == 16 || p.group == 32 || p.group == 64);
}

void sop_i8_rows_avx512(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  switch (p.group) {
    case 8: sop_i8_books<8>(p, a, r0, r1, y); break;
    case 16: sop_i8_books<16>(p, a, r0, r1, y); break;
    case 32: sop_i8_books<32>(p, a, r0, r1, y); break;
    default: sop_i8_books<64>(p, a, r0, r1, y); break;
  }
}

}  // namespace lutc::kernels

// AVX-512 f32 rows for sop layers with 4- or 6-bit codes (the FP4/NF4/DD4
// and FP6/INT6 formats). A sop block is one group of 8..64 elements whose
// weights are codebook[code] * (signed block scale), and the layer has only
// one or two codebooks, so the codebook lives in registers and a block costs
// a code unpack, a register lookup and one multiply by its scale; the
// generic paths instead rebuilt a 16-entry table per block (4-bit) or
// gathered from memory (6-bit). Activations come in element order.
//  - 4-bit: pack_layer's block of 32 slots, byte j = code j | code j+16 << 4;
//    zero-extending 16 bytes gives 16 vpermps indices (vpermps reads the low
//    4 bits), a 4-bit shift gives the next 16.
//  - 6-bit: the block's little-endian bit stream; 16 codes sit in 12 bytes,
//    4 codes per 3 bytes, so one 16-byte load broadcast to the four 128-bit
//    lanes, one vpshufb (lane L takes bytes 3L..3L+2 into each dword) and one
//    variable shift by 0/6/12/18 unpack them. Two vpermt2ps cover entries
//    0..31 and 32..63, bit 5 of the code picks between them.
// Weights equal the golden decode's (the same single fp32 product), so the
// result differs from golden only in the order of the fp32 sums.
#include <immintrin.h>

#include <array>

#include "row_kernels.h"
#include "table16_avx512.h"

namespace lutc::kernels {
namespace {

// The vpshufb control that puts bytes 3L + o .. 3L + o + 2 into every dword
// of 128-bit lane L (the 24 bits of 4 consecutive 6-bit codes), then zero.
LUTC_AVX512 inline __m512i codes6_ctrl(char o) {
  auto lane = [o](char l) { return std::array<char, 4>{char(o + 3 * l), char(o + 3 * l + 1), char(o + 3 * l + 2), -1}; };
  alignas(64) char c[64];
  for (char l = 0; l < 4; ++l)
    for (int d = 0; d < 4; ++d)
      for (int b = 0; b < 4; ++b) c[16 * l + 4 * d + b] = lane(l)[size_t(b)];
  return _mm512_load_si512(c);
}

// Turns the codes of one 16-element step into weights: codebook entry times
// the block's scale (lanes past the group's end are zero).
template <unsigned BITS>
struct StepDecoder {
  __m512i ctrl_first, ctrl_second;  // 6-bit: codes 0..15 from byte 0, 16..31 from byte 8 (+4)
  LUTC_AVX512 StepDecoder() {
    if constexpr (BITS == 6) {
      ctrl_first = codes6_ctrl(0);
      ctrl_second = codes6_ctrl(4);
    }
  }
  // 16 code indices of step s (0..3) of a group starting at src.
  LUTC_AVX512 __m512i codes(const uint8_t* src, uint32_t s) const {
    const uint8_t* block = src + (s / 2) * (kBlock * BITS / 8);
    if constexpr (BITS == 4) {
      const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block)));
      return s % 2 == 0 ? v : _mm512_srli_epi32(v, 4);
    } else {
      const bool first = s % 2 == 0;  // codes 16..31 sit in bytes 12..23: load from 8, stay in the block
      const __m512i v =
          _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + (first ? 0 : 8))));
      const __m512i shifts = _mm512_setr_epi32(0, 6, 12, 18, 0, 6, 12, 18, 0, 6, 12, 18, 0, 6, 12, 18);
      return _mm512_and_si512(_mm512_srlv_epi32(_mm512_shuffle_epi8(v, first ? ctrl_first : ctrl_second), shifts),
                              _mm512_set1_epi32(63));
    }
  }
  LUTC_AVX512 __m512 weights(const uint8_t* src, uint32_t s, const float* book, __m512 scale,
                             __mmask16 lanes) const {
    const __m512i idx = codes(src, s);
    __m512 t;
    if constexpr (BITS == 4) {
      t = _mm512_permutexvar_ps(idx, _mm512_loadu_ps(book));
    } else {  // entries 0..31 and 32..63, bit 5 of the code picks
      const __m512 lo = _mm512_permutex2var_ps(_mm512_loadu_ps(book), idx, _mm512_loadu_ps(book + 16));
      const __m512 hi = _mm512_permutex2var_ps(_mm512_loadu_ps(book + 32), idx, _mm512_loadu_ps(book + 48));
      t = _mm512_mask_blend_ps(_mm512_test_epi32_mask(idx, _mm512_set1_epi32(32)), lo, hi);
    }
    return _mm512_maskz_mul_ps(lanes, t, scale);
  }
};

template <unsigned BITS, int MT>
LUTC_AVX512 void sop_rows(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  constexpr unsigned kEntries = 1u << BITS;
  const StepDecoder<BITS> dec;
  // Elements per 16-lane step of a group (8 for b8 blocks: the upper lanes are padding).
  const __mmask16 lanes = p.group < 16 ? __mmask16((1u << p.group) - 1) : __mmask16(0xffff);
  const uint32_t steps = (p.group + 15) / 16;
  const uint8_t* books = p.sop_book.data();
  const float* scales = p.sop_scale.data();
  const float* shared = p.shared.data();
  // One group's contribution to acc (all its steps).
  auto group = [&](const uint8_t* row, const uint16_t* codes_of_row, uint32_t g, __m512* acc) LUTC_AVX512 {
    const uint16_t c = codes_of_row[g];
    const float* book = shared + size_t(books[c]) * kEntries;
    const __m512 scale = _mm512_set1_ps(scales[c]);
    const uint8_t* src = row + size_t(g) * p.group_bytes;
    const float* xg = a.x + size_t(g) * p.group_padded;
    for (uint32_t s = 0; s < steps; ++s) {
      const __m512 w = dec.weights(src, s, book, scale, lanes);
      for (int m = 0; m < MT; ++m)
        acc[m] = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(lanes, xg + m * a.stride + 16 * s), acc[m]);
    }
  };
  for (uint32_t r = r0; r < r1; ++r) {
    // Even and odd groups accumulate separately: two independent FMA chains.
    __m512 acc0[MT], acc1[MT];
    for (int m = 0; m < MT; ++m) acc0[m] = acc1[m] = _mm512_setzero_ps();
    const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
    const uint16_t* codes_of_row = p.group_half.data() + size_t(r) * p.groups_per_row;
    uint32_t g = 0;
    for (; g + 1 < p.groups_per_row; g += 2) {
      group(row, codes_of_row, g, acc0);
      group(row, codes_of_row, g + 1, acc1);
    }
    if (g < p.groups_per_row) group(row, codes_of_row, g, acc0);
    for (int m = 0; m < MT; ++m) {
      float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0[m], acc1[m]));
      add_outliers(p, a, r, m, &sum);
      y[size_t(m) * p.rows + r] = sum;
    }
  }
}

template <unsigned BITS>
void sop_rows_batch(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  switch (a.batch) {
    case 1: sop_rows<BITS, 1>(p, a, r0, r1, y); break;
    case 2: sop_rows<BITS, 2>(p, a, r0, r1, y); break;
    case 3: sop_rows<BITS, 3>(p, a, r0, r1, y); break;
    default: sop_rows<BITS, 4>(p, a, r0, r1, y); break;
  }
}

}  // namespace

bool sop_rows_avx512_handles(const PackedLayer& p) {
  return p.scheme == Scheme::kSop && (p.bits == 4 || p.bits == 6);
}

void sop_f32_rows_avx512(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  if (p.bits == 4)
    sop_rows_batch<4>(p, a, r0, r1, y);
  else
    sop_rows_batch<6>(p, a, r0, r1, y);
}

}  // namespace lutc::kernels

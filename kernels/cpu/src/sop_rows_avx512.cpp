// AVX-512 f32 rows for sop layers with 4- or 6-bit codes (the FP4/NF4/DD4
// and FP6/INT6 formats). A sop block is one group of 8..64 elements whose
// weights are codebook[code] * (signed block scale), and the layer has only
// one or two codebooks, so the codebook lives in registers and a block costs
// a code unpack, a register lookup and one multiply by its scale; the
// generic paths instead rebuilt a 16-entry table per block (4-bit) or
// gathered from memory (6-bit). Activations come in element order.
//  - The row is walked in blocks of 32 elements, two 16-lane steps each. A
//    step belongs to one group (blocks of 16 or more) or to two (b8: lanes
//    0-7 and 8-15), so b8/b16 in the dense layout cost what b32 does per
//    element; the per-lane scale of a b8 step is one masked broadcast.
//  - 4-bit: pack_layer's block of 32, byte j = code j | code j+16 << 4;
//    zero-extending 16 bytes gives 16 vpermps indices (vpermps reads the low
//    4 bits), a 4-bit shift gives the next 16.
//  - 6-bit: the row's little-endian bit stream; 16 codes from element e
//    (e % 16 == 0) sit in the 12 bytes from byte 3e/4, 4 codes per 3 bytes,
//    so one 16-byte load broadcast to the four 128-bit lanes (the row's last
//    reads 4 bytes past it, which the allocation allows), one vpshufb (lane
//    L takes bytes 3L..3L+2 into each dword) and one variable shift by
//    0/6/12/18 unpack them. Two vpermt2ps cover entries 0..31 and 32..63,
//    bit 5 of the code picks between them.
//  - One codebook (not paired): it stays in registers for the whole call.
//    Two 4-bit books: both stay in registers as one 32-entry table (a b8
//    step picks per lane). Two 6-bit books: the group's book is read from
//    L1 (a b8 step blends two lookups).
// Weights equal the golden decode's (the same single fp32 product), so the
// result differs from golden only in the order of the fp32 sums.
#include <immintrin.h>

#include <array>

#include "row_kernels.h"
#include "table16_avx512.h"

namespace lutc::kernels {
namespace {

// The vpshufb control that puts bytes 3L .. 3L + 2 into every dword of
// 128-bit lane L (the 24 bits of 4 consecutive 6-bit codes), then zero.
LUTC_AVX512 inline __m512i codes6_ctrl() {
  auto lane = [](char l) { return std::array<char, 4>{char(3 * l), char(3 * l + 1), char(3 * l + 2), -1}; };
  alignas(64) char c[64];
  for (char l = 0; l < 4; ++l)
    for (int d = 0; d < 4; ++d)
      for (int b = 0; b < 4; ++b) c[16 * l + 4 * d + b] = lane(l)[size_t(b)];
  return _mm512_load_si512(c);
}

// The codes of a block of 32 elements as two 16-lane index vectors
// (elements 0..15, 16..31), with other codes' bits above the code's own:
// lookups read only the bits they need, or mask.
template <unsigned BITS>
struct BlockCodes {
  __m512i ctrl, shifts;
  LUTC_AVX512 BlockCodes() {
    if constexpr (BITS == 6) {
      ctrl = codes6_ctrl();
      shifts = _mm512_setr_epi32(0, 6, 12, 18, 0, 6, 12, 18, 0, 6, 12, 18, 0, 6, 12, 18);
    }
  }
  // 16 codes from byte src of a 6-bit stream (the first on a byte boundary),
  // in bits 0..5 of each lane; the bits above are the next codes', which the
  // lookup (bits 0..4, then bit 5) never reads.
  LUTC_AVX512 __m512i six(const uint8_t* src) const {
    const __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src)));
    return _mm512_srlv_epi32(_mm512_shuffle_epi8(v, ctrl), shifts);
  }
  LUTC_AVX512 void get(const uint8_t* row, uint32_t blk, __m512i* i0, __m512i* i1) const {
    if constexpr (BITS == 4) {
      *i0 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + size_t(blk) * 16)));
      *i1 = _mm512_srli_epi32(*i0, 4);
    } else {
      *i0 = six(row + size_t(blk) * 24);
      *i1 = six(row + size_t(blk) * 24 + 12);
    }
  }
};

// Tiles prefetch their codes (kPrefetchBytes): rows are contiguous, so the
// distance also runs ahead into the next tiles. One row at a time is a
// single long stream, which the hardware follows better alone.

constexpr size_t kMaxScaleCodes = 1024;  // 10-bit sop scale codes at most

// Codebook lookups by the groups' scale codes (which carry the book). Two
// 4-bit books: index bit 4 picks the book, pick holds 16 * book per scale
// code (one broadcast per group).
template <unsigned BITS, bool ONE_BOOK>
struct Books {
  static constexpr unsigned kEntries = 1u << BITS, kRegs = kEntries / 16;
  static constexpr bool kPick = !ONE_BOOK && BITS == 4;
  const float* shared;
  const uint8_t* book_of;
  const int32_t* pick;
  __m512 reg[kPick ? 2 : kRegs];
  // pick: room for one int32 per scale code (filled here for two 4-bit books).
  LUTC_AVX512 Books(const PackedLayer& p, int32_t* pick_buf)
      : shared(p.shared.data()), book_of(p.sop_book.data()), pick(pick_buf) {
    if constexpr (ONE_BOOK || kPick)
      for (unsigned i = 0; i < (kPick ? 2 : kRegs); ++i) reg[i] = _mm512_loadu_ps(shared + 16 * i);
    if constexpr (kPick)
      for (size_t c = 0; c < p.sop_book.size(); ++c) pick_buf[c] = 16 * int32_t(p.sop_book[c]);
  }
  LUTC_AVX512 static __m512 look(const __m512* t, __m512i idx) {
    if constexpr (BITS == 4) {
      return _mm512_permutexvar_ps(idx, t[0]);
    } else {  // entries 0..31 and 32..63, bit 5 of the code picks
      const __m512 lo = _mm512_permutex2var_ps(t[0], idx, t[1]);
      const __m512 hi = _mm512_permutex2var_ps(t[2], idx, t[3]);
      return _mm512_mask_blend_ps(_mm512_test_epi32_mask(idx, _mm512_set1_epi32(32)), lo, hi);
    }
  }
  // (idx & 15) | pk: the code within the book pk picks.
  LUTC_AVX512 __m512 look_pick(__m512i idx, __m512i pk) const {
    return _mm512_permutex2var_ps(reg[0], _mm512_ternarylogic_epi32(idx, _mm512_set1_epi32(15), pk, 0xea), reg[1]);
  }
  LUTC_AVX512 __m512 book(__m512i idx, unsigned c) const {
    if constexpr (ONE_BOOK) {
      return look(reg, idx);
    } else if constexpr (kPick) {
      return look_pick(idx, _mm512_set1_epi32(pick[c]));
    } else {
      __m512 t[kRegs];
      for (unsigned i = 0; i < kRegs; ++i) t[i] = _mm512_loadu_ps(shared + book_of[c] * kEntries + 16 * i);
      return look(t, idx);
    }
  }
  // Lanes 0-7 from scale code a's book, 8-15 from b's.
  LUTC_AVX512 __m512 books(__m512i idx, unsigned a, unsigned b) const {
    if constexpr (ONE_BOOK)
      return look(reg, idx);
    else if constexpr (kPick)
      return look_pick(idx, _mm512_mask_mov_epi32(_mm512_set1_epi32(pick[a]), 0xff00, _mm512_set1_epi32(pick[b])));
    else
      return _mm512_mask_blend_ps(0xff00, book(idx, a), book(idx, b));
  }
};

// The two 16-lane weight vectors of one block of a row.
template <unsigned BITS, bool ONE_BOOK>
struct BlockWeights {
  const BlockCodes<BITS>& codes;
  const Books<BITS, ONE_BOOK>& books;
  const float* scale_of;
  // Dense layout: the block holds groups g .. g + per_block - 1 (per_block 2
  // or 4); groups past the row's last (the padded end of its last block) get
  // scale 0 and read no metadata.
  template <class InRow, class Code>
  LUTC_AVX512 void dense(const uint8_t* row, const Code* sc, uint32_t blk, uint32_t per_block, InRow in_row, __m512* w0,
                         __m512* w1) const {
    const uint32_t g = blk * per_block;
    auto code = [&](uint32_t k) { return in_row(g + k) ? unsigned(sc[g + k]) : 0u; };
    auto scale = [&](uint32_t k) { return in_row(g + k) ? scale_of[sc[g + k]] : 0.0f; };
    __m512i i0, i1;
    codes.get(row, blk, &i0, &i1);
    if (per_block == 2) {
      *w0 = _mm512_mul_ps(books.book(i0, code(0)), _mm512_set1_ps(scale(0)));
      *w1 = _mm512_mul_ps(books.book(i1, code(1)), _mm512_set1_ps(scale(1)));
    } else {
      const __m512 s0 = _mm512_mask_mov_ps(_mm512_set1_ps(scale(0)), 0xff00, _mm512_set1_ps(scale(1)));
      const __m512 s1 = _mm512_mask_mov_ps(_mm512_set1_ps(scale(2)), 0xff00, _mm512_set1_ps(scale(3)));
      *w0 = _mm512_mul_ps(books.books(i0, code(0), code(1)), s0);
      *w1 = _mm512_mul_ps(books.books(i1, code(2), code(3)), s1);
    }
  }
  // Block blk of a group of 32 or more elements with scale code c.
  LUTC_AVX512 void group(const uint8_t* row, unsigned c, uint32_t blk, __m512* w0, __m512* w1) const {
    const __m512 scale = _mm512_set1_ps(scale_of[c]);
    __m512i i0, i1;
    codes.get(row, blk, &i0, &i1);
    *w0 = _mm512_mul_ps(books.book(i0, c), scale);
    *w1 = _mm512_mul_ps(books.book(i1, c), scale);
  }
};

// Rows r .. r + R - 1 against MT vectors: each activation load feeds R
// rows' FMAs (row by row, a batch re-read every vector from L2 per row, and
// those loads set the speed). Two FMA chains per (row, vector) while fewer
// than 8 pairs would leave FMA latency exposed, one when registers are
// better spent on rows.
template <unsigned BITS, bool ONE_BOOK, int MT, int R, class Code>
LUTC_AVX512 void sop_tile(const PackedLayer& p, const FastActivations& a, const BlockWeights<BITS, ONE_BOOK>& bw,
                          const Code* codes, uint32_t r, float* y) {
  constexpr int C = R * MT >= 8 ? 1 : 2;
  constexpr uint32_t kBlockBytes = BITS * kBlock / 8;
  const uint32_t gpr = p.groups_per_row;
  __m512 acc[R][MT][C];
  const uint8_t* row[R];
  const Code* sc[R];
  for (int i = 0; i < R; ++i) {
    for (int m = 0; m < MT; ++m)
      for (int c = 0; c < C; ++c) acc[i][m][c] = _mm512_setzero_ps();
    row[i] = p.indices.data() + size_t(r + i) * p.row_bytes;
    sc[i] = codes + size_t(r + i) * gpr;
  }
  // weights(i, &w0, &w1): row r + i's two vectors of block blk.
  auto step = [&](uint32_t blk, auto weights) LUTC_AVX512 {
    if (R > 1 && (blk & (64 / kBlockBytes - 1)) == 0)
      for (int i = 0; i < R; ++i)
        _mm_prefetch(reinterpret_cast<const char*>(row[i] + size_t(blk) * kBlockBytes) + kPrefetchBytes, _MM_HINT_T0);
    __m512 w0[R], w1[R];
    for (int i = 0; i < R; ++i) weights(i, &w0[i], &w1[i]);
    const float* xb = a.x + size_t(blk) * kBlock;
    for (int m = 0; m < MT; ++m) {
      const __m512 x0 = _mm512_loadu_ps(xb + m * a.stride), x1 = _mm512_loadu_ps(xb + m * a.stride + 16);
      for (int i = 0; i < R; ++i) acc[i][m][0] = _mm512_fmadd_ps(w0[i], x0, acc[i][m][0]);
      for (int i = 0; i < R; ++i) acc[i][m][C - 1] = _mm512_fmadd_ps(w1[i], x1, acc[i][m][C - 1]);
    }
  };
  if (p.dense()) {
    const uint32_t per_block = kBlock / p.group, blocks = p.padded_cols() / kBlock, full = gpr / per_block;
    for (uint32_t blk = 0; blk < full; ++blk)
      step(blk, [&](int i, __m512* w0, __m512* w1) LUTC_AVX512 {
        bw.dense(
            row[i], sc[i], blk, per_block, [](uint32_t) { return true; }, w0, w1);
      });
    if (full < blocks)
      step(full, [&](int i, __m512* w0, __m512* w1) LUTC_AVX512 {
        bw.dense(
            row[i], sc[i], full, per_block, [gpr](uint32_t g) { return g < gpr; }, w0, w1);
      });
  } else {
    const uint32_t blocks = p.group_padded / kBlock;
    for (uint32_t g = 0; g < gpr; ++g)
      for (uint32_t j = 0; j < blocks; ++j)
        step(g * blocks + j,
             [&](int i, __m512* w0, __m512* w1) LUTC_AVX512 { bw.group(row[i], sc[i][g], g * blocks + j, w0, w1); });
  }
  for (int i = 0; i < R; ++i)
    for (int m = 0; m < MT; ++m) {
      float sum = _mm512_reduce_add_ps(C == 1 ? acc[i][m][0] : _mm512_add_ps(acc[i][m][0], acc[i][m][C - 1]));
      add_outliers(p, a, r + i, m, &sum);
      y[size_t(m) * p.rows + r + i] = sum;
    }
}

template <unsigned BITS, bool ONE_BOOK, int MT>
LUTC_AVX512 void sop_rows(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  // Rows per tile, measured (one Zen 4 thread, 11008x4096, b16): one more
  // row than fits spills the accumulators and costs 1.5-2x. 6-bit decoding
  // holds four book registers and its unpack constants, so its batch-1 rows
  // stay one at a time.
  constexpr int R = MT == 1 ? (BITS == 4 ? 2 : 1) : MT == 2 && BITS == 4 ? 5 : 4;
  const BlockCodes<BITS> codes;
  int32_t pick[kMaxScaleCodes];
  const Books<BITS, ONE_BOOK> books(p, pick);
  const BlockWeights<BITS, ONE_BOOK> bw{codes, books, p.sop_scale.data()};
  with_sop_codes(p, [&](const auto* codes) LUTC_AVX512 {
    uint32_t r = r0;
    if constexpr (R > 1)
      for (; r + R <= r1; r += R) sop_tile<BITS, ONE_BOOK, MT, R>(p, a, bw, codes, r, y);
    for (; r < r1; ++r) sop_tile<BITS, ONE_BOOK, MT, 1>(p, a, bw, codes, r, y);
  });
}

template <unsigned BITS, bool ONE_BOOK>
void sop_rows_batch(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  switch (a.batch) {
    case 1: sop_rows<BITS, ONE_BOOK, 1>(p, a, r0, r1, y); break;
    case 2: sop_rows<BITS, ONE_BOOK, 2>(p, a, r0, r1, y); break;
    case 3: sop_rows<BITS, ONE_BOOK, 3>(p, a, r0, r1, y); break;
    default: sop_rows<BITS, ONE_BOOK, 4>(p, a, r0, r1, y); break;
  }
}

template <unsigned BITS>
void sop_rows_books(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  if (p.shared.size() == (size_t(1) << BITS))
    sop_rows_batch<BITS, true>(p, a, r0, r1, y);
  else
    sop_rows_batch<BITS, false>(p, a, r0, r1, y);
}

}  // namespace

bool sop_rows_avx512_handles(const PackedLayer& p) {
  return p.scheme == Scheme::kSop && (p.bits == 4 || p.bits == 6) && p.sop_book.size() <= kMaxScaleCodes;
}

void sop_f32_rows_avx512(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  if (p.bits == 4)
    sop_rows_books<4>(p, a, r0, r1, y);
  else
    sop_rows_books<6>(p, a, r0, r1, y);
}

}  // namespace lutc::kernels

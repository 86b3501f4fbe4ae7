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
//  - Blocks of 32 and 64 at batch 1 (64: batches up to 3) sum a group's
//    unscaled products first and multiply the sum by the scale once (one
//    FMA per group instead of one multiply per 16 weights); the result is
//    the same sum in another fp32 order.
//  - 4-bit: pack_layer's block of 32, byte j = code j | code j+16 << 4;
//    zero-extending 16 bytes gives 16 vpermps indices (vpermps reads the low
//    4 bits), a 4-bit shift gives the next 16.
//  - 6-bit: the row's little-endian bit stream; 16 codes from element e
//    (e % 16 == 0) sit in the 12 bytes from byte 3e/4, 4 codes per 3 bytes,
//    so one 16-byte load broadcast to the four 128-bit lanes (the row's last
//    reads 4 bytes past it, which the allocation allows), one vpshufb (lane
//    L takes bytes 3L..3L+2 into each dword) and one variable shift by
//    0/6/12/18 unpack them. Two vpermt2ps cover entries 0..31 and 32..63,
//    bit 5 of the code picks between them. Sign-symmetric books (FP6 E2M3:
//    entry c + 32 is entry c with the sign bit flipped, checked bit for bit)
//    need one vpermt2ps over entries 0..31 and an XOR of the code's bit 5
//    into the sign: the same fp32 value.
//  - One codebook (not paired): it stays in registers for the whole call.
//    Two 4-bit books: both stay in registers as one 32-entry table (a b8
//    step picks per lane). Two 6-bit books: the group's book is read from
//    L1 (2 registers when symmetric, 4 otherwise; a b8 step blends two
//    lookups).
// Weights equal the golden decode's (the same single fp32 product), so the
// result differs from golden only in the order of the fp32 sums.
#include <immintrin.h>

#include <array>
#include <cstring>

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
  // lookups (bits 0..4, then bit 5) never read.
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

constexpr size_t kMaxScaleCodes = 1024;  // 10-bit sop scale codes at most

// Codebook lookups: look(idx, c) gives the 16 unscaled weights of lanes that
// all belong to a group with scale code c (which carries the book), look2
// lanes 0-7 from code a's book and 8-15 from b's.

// One 4-bit book: one register, vpermps.
struct One4 {
  static constexpr unsigned kBits = 4;
  __m512 t;
  LUTC_AVX512 explicit One4(const PackedLayer& p) : t(_mm512_loadu_ps(p.shared.data())) {}
  LUTC_AVX512 __m512 look(__m512i idx, unsigned) const { return _mm512_permutexvar_ps(idx, t); }
  LUTC_AVX512 __m512 look2(__m512i idx, unsigned, unsigned) const { return _mm512_permutexvar_ps(idx, t); }
};

// Two 4-bit books: one 32-entry table in two registers, index bit 4 picks
// the book (pick = 16 * book per scale code, one broadcast per group).
struct Pair4 {
  static constexpr unsigned kBits = 4;
  __m512 t0, t1;
  std::array<int32_t, kMaxScaleCodes> pick;
  LUTC_AVX512 explicit Pair4(const PackedLayer& p)
      : t0(_mm512_loadu_ps(p.shared.data())), t1(_mm512_loadu_ps(p.shared.data() + 16)) {
    for (size_t c = 0; c < p.sop_book.size(); ++c) pick[c] = 16 * int32_t(p.sop_book[c]);
  }
  LUTC_AVX512 __m512 with(__m512i idx, __m512i pk) const {
    return _mm512_permutex2var_ps(t0, _mm512_ternarylogic_epi32(idx, _mm512_set1_epi32(15), pk, 0xea), t1);
  }
  LUTC_AVX512 __m512 look(__m512i idx, unsigned c) const { return with(idx, _mm512_set1_epi32(pick[c])); }
  LUTC_AVX512 __m512 look2(__m512i idx, unsigned a, unsigned b) const {
    return with(idx, _mm512_mask_mov_epi32(_mm512_set1_epi32(pick[a]), 0xff00, _mm512_set1_epi32(pick[b])));
  }
};

// 64 entries in four registers t[0..3]: two vpermt2ps, bit 5 picks.
LUTC_AVX512 inline __m512 look64(const __m512* t, __m512i idx) {
  const __m512 lo = _mm512_permutex2var_ps(t[0], idx, t[1]);
  const __m512 hi = _mm512_permutex2var_ps(t[2], idx, t[3]);
  return _mm512_mask_blend_ps(_mm512_test_epi32_mask(idx, _mm512_set1_epi32(32)), lo, hi);
}

// A sign-symmetric book's entries 0..31 in t[0..1]: one vpermt2ps, then bit
// 5 of the code (moved to bit 31) flips the sign: A ^ (B & C).
LUTC_AVX512 inline __m512 look_sym(const __m512* t, __m512i idx) {
  const __m512 w = _mm512_permutex2var_ps(t[0], idx, t[1]);
  return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(w), _mm512_slli_epi32(idx, 26),
                                                       _mm512_set1_epi32(int32_t(0x80000000u)), 0x78));
}

// One 6-bit book in registers (2 when sign-symmetric, else 4).
template <bool SYM>
struct One6 {
  static constexpr unsigned kBits = 6;
  __m512 t[SYM ? 2 : 4];
  LUTC_AVX512 explicit One6(const PackedLayer& p) {
    for (unsigned i = 0; i < (SYM ? 2u : 4u); ++i) t[i] = _mm512_loadu_ps(p.shared.data() + 16 * i);
  }
  LUTC_AVX512 __m512 look(__m512i idx, unsigned) const { return SYM ? look_sym(t, idx) : look64(t, idx); }
  LUTC_AVX512 __m512 look2(__m512i idx, unsigned, unsigned) const { return look(idx, 0); }
};

// Two 6-bit books: the group's book is read from L1 (the loads, not the
// shuffle port, pay for the choice).
template <bool SYM>
struct Pair6 {
  static constexpr unsigned kBits = 6;
  const float* shared;
  const uint8_t* book_of;
  LUTC_AVX512 explicit Pair6(const PackedLayer& p) : shared(p.shared.data()), book_of(p.sop_book.data()) {}
  LUTC_AVX512 __m512 look(__m512i idx, unsigned c) const {
    const float* b = shared + size_t(book_of[c]) * 64;
    __m512 t[SYM ? 2 : 4];
    for (unsigned i = 0; i < (SYM ? 2u : 4u); ++i) t[i] = _mm512_loadu_ps(b + 16 * i);
    return SYM ? look_sym(t, idx) : look64(t, idx);
  }
  LUTC_AVX512 __m512 look2(__m512i idx, unsigned a, unsigned b) const {
    return _mm512_mask_blend_ps(0xff00, look(idx, a), look(idx, b));
  }
};

// Every 6-bit book has entry c + 32 == entry c with the sign bit flipped.
bool sign_symmetric6(const PackedLayer& p) {
  for (size_t b = 0; b + 64 <= p.shared.size(); b += 64)
    for (unsigned c = 0; c < 32; ++c) {
      uint32_t u, v;
      std::memcpy(&u, &p.shared[b + c], 4);
      std::memcpy(&v, &p.shared[b + c + 32], 4);
      if (v != (u ^ 0x80000000u)) return false;
    }
  return true;
}

// Tiles prefetch their codes kSopPrefetchBytes ahead into L2, one prefetch
// per 64-byte line (rows are contiguous, so the distance also runs ahead
// into the next tiles). Always inlined and without a target attribute:
// GCC 12 silently dropped these prefetches from a LUTC_AVX512 helper (and
// from a lambda) once inlined into the tiles.
template <int R, uint32_t kBlockBytes>
__attribute__((always_inline)) inline void prefetch_rows(const uint8_t* const* row, uint32_t blk) {
  if ((blk & (64 / kBlockBytes - 1)) == 0)
    for (int i = 0; i < R; ++i)
      _mm_prefetch(reinterpret_cast<const char*>(row[i] + size_t(blk) * kBlockBytes) + kSopPrefetchBytes, _MM_HINT_T1);
}

// Rows r .. r + R - 1 against MT vectors, blocks of G elements: each
// activation load feeds R rows' FMAs (row by row, a batch re-read every
// vector from L2 per row, and those loads set the speed). Two FMA chains
// per (row, vector) while fewer than 8 pairs would leave FMA latency
// exposed, one when registers are better spent on rows.
template <uint32_t G, class Book, int MT, int R, class Code>
LUTC_AVX512 void sop_tile(const PackedLayer& p, const FastActivations& a, const BlockCodes<Book::kBits>& codes,
                          const Book& book, const Code* scale_codes, uint32_t r, float* y) {
  constexpr int C = R * MT >= 8 ? 1 : 2;
  constexpr uint32_t kBlockBytes = Book::kBits * kBlock / 8;
  constexpr bool kFactor = G >= 32 && MT < int(G / 16);  // scale a group's sum, not each weight
  const float* scale_of = p.sop_scale.data();
  const uint32_t gpr = p.groups_per_row;
  __m512 acc[R][MT][C];
  const uint8_t* row[R];
  const Code* sc[R];
  for (int i = 0; i < R; ++i) {
    for (int m = 0; m < MT; ++m)
      for (int c = 0; c < C; ++c) acc[i][m][c] = _mm512_setzero_ps();
    row[i] = p.indices.data() + size_t(r + i) * p.row_bytes;
    sc[i] = scale_codes + size_t(r + i) * gpr;
  }
  // Block blk with row i's two weight vectors from weights(i, &w0, &w1).
  auto fma_block = [&](uint32_t blk, const __m512* w0, const __m512* w1) LUTC_AVX512 {
    const float* xb = a.x + size_t(blk) * kBlock;
    for (int m = 0; m < MT; ++m) {
      const __m512 x0 = _mm512_loadu_ps(xb + m * a.stride), x1 = _mm512_loadu_ps(xb + m * a.stride + 16);
      for (int i = 0; i < R; ++i) acc[i][m][0] = _mm512_fmadd_ps(w0[i], x0, acc[i][m][0]);
      for (int i = 0; i < R; ++i) acc[i][m][C - 1] = _mm512_fmadd_ps(w1[i], x1, acc[i][m][C - 1]);
    }
  };
  if constexpr (G < kBlock) {
    // Dense: block blk holds groups blk * kPer ...; groups past the row's
    // last (the padded end of its last block) get scale 0 and read no codes.
    constexpr uint32_t kPer = kBlock / G;
    const uint32_t blocks = p.padded_cols() / kBlock, full = gpr / kPer;
    auto block = [&](uint32_t blk, auto in_row) LUTC_AVX512 {
      prefetch_rows<R, kBlockBytes>(row, blk);
      const uint32_t g = blk * kPer;
      __m512 w0[R], w1[R];
      for (int i = 0; i < R; ++i) {
        auto code = [&](uint32_t k) { return in_row(g + k) ? unsigned(sc[i][g + k]) : 0u; };
        auto scale = [&](uint32_t k) { return in_row(g + k) ? scale_of[sc[i][g + k]] : 0.0f; };
        __m512i i0, i1;
        codes.get(row[i], blk, &i0, &i1);
        if constexpr (kPer == 2) {
          w0[i] = _mm512_mul_ps(book.look(i0, code(0)), _mm512_set1_ps(scale(0)));
          w1[i] = _mm512_mul_ps(book.look(i1, code(1)), _mm512_set1_ps(scale(1)));
        } else {
          const __m512 s0 = _mm512_mask_mov_ps(_mm512_set1_ps(scale(0)), 0xff00, _mm512_set1_ps(scale(1)));
          const __m512 s1 = _mm512_mask_mov_ps(_mm512_set1_ps(scale(2)), 0xff00, _mm512_set1_ps(scale(3)));
          w0[i] = _mm512_mul_ps(book.look2(i0, code(0), code(1)), s0);
          w1[i] = _mm512_mul_ps(book.look2(i1, code(2), code(3)), s1);
        }
      }
      fma_block(blk, w0, w1);
    };
    for (uint32_t blk = 0; blk < full; ++blk) block(blk, [](uint32_t) { return true; });
    if (full < blocks) block(full, [gpr](uint32_t g) { return g < gpr; });
  } else if constexpr (!kFactor) {
    constexpr uint32_t kBlocks = G / kBlock;  // per group
    for (uint32_t g = 0; g < gpr; ++g) {
      __m512 s[R];
      for (int i = 0; i < R; ++i) s[i] = _mm512_set1_ps(scale_of[sc[i][g]]);
      for (uint32_t j = 0; j < kBlocks; ++j) {
        const uint32_t blk = g * kBlocks + j;
        prefetch_rows<R, kBlockBytes>(row, blk);
        __m512 w0[R], w1[R];
        for (int i = 0; i < R; ++i) {
          __m512i i0, i1;
          codes.get(row[i], blk, &i0, &i1);
          w0[i] = _mm512_mul_ps(book.look(i0, sc[i][g]), s[i]);
          w1[i] = _mm512_mul_ps(book.look(i1, sc[i][g]), s[i]);
        }
        fma_block(blk, w0, w1);
      }
    }
  } else {
    // part[i][m]: the group's unscaled sum, then one FMA by its scale into
    // accumulator c (even and odd groups alternate; c is a constant once
    // inlined, so the accumulators stay in registers).
    constexpr uint32_t kBlocks = G / kBlock;
    auto group = [&](uint32_t g, int c) LUTC_AVX512 {
      __m512 part[R][MT];
      for (uint32_t j = 0; j < kBlocks; ++j) {
        const uint32_t blk = g * kBlocks + j;
        prefetch_rows<R, kBlockBytes>(row, blk);
        const float* xb = a.x + size_t(blk) * kBlock;
        for (int i = 0; i < R; ++i) {
          __m512i i0, i1;
          codes.get(row[i], blk, &i0, &i1);
          const __m512 w0 = book.look(i0, sc[i][g]), w1 = book.look(i1, sc[i][g]);
          for (int m = 0; m < MT; ++m) {
            const __m512 x0 = _mm512_loadu_ps(xb + m * a.stride), x1 = _mm512_loadu_ps(xb + m * a.stride + 16);
            part[i][m] = j == 0 ? _mm512_mul_ps(w0, x0) : _mm512_fmadd_ps(w0, x0, part[i][m]);
            part[i][m] = _mm512_fmadd_ps(w1, x1, part[i][m]);
          }
        }
      }
      for (int i = 0; i < R; ++i) {
        const __m512 s = _mm512_set1_ps(scale_of[sc[i][g]]);
        for (int m = 0; m < MT; ++m) acc[i][m][c] = _mm512_fmadd_ps(part[i][m], s, acc[i][m][c]);
      }
    };
    uint32_t g = 0;
    for (; g + 1 < gpr; g += 2) {
      group(g, 0);
      group(g + 1, C - 1);
    }
    if (g < gpr) group(g, 0);
  }
  for (int i = 0; i < R; ++i)
    for (int m = 0; m < MT; ++m) {
      float sum = _mm512_reduce_add_ps(C == 1 ? acc[i][m][0] : _mm512_add_ps(acc[i][m][0], acc[i][m][C - 1]));
      add_outliers(p, a, r + i, m, &sum);
      y[size_t(m) * p.rows + r + i] = sum;
    }
}

template <uint32_t G, class Book, int MT>
LUTC_AVX512 void sop_rows(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  // Rows per tile, measured (one Zen 4 thread, 11008x4096, b16): one more
  // row than fits spills the accumulators and costs 1.5-2x. 6-bit decoding
  // holds up to four book registers and its unpack constants, so its
  // batch-1 rows stay one at a time.
  constexpr int R = MT == 1 ? (Book::kBits == 4 ? 2 : 1) : MT == 2 && Book::kBits == 4 ? 5 : 4;
  const BlockCodes<Book::kBits> codes;
  const Book book(p);
  with_sop_codes(p, [&](const auto* sc) LUTC_AVX512 {
    uint32_t r = r0;
    if constexpr (R > 1)
      for (; r + R <= r1; r += R) sop_tile<G, Book, MT, R>(p, a, codes, book, sc, r, y);
    for (; r < r1; ++r) sop_tile<G, Book, MT, 1>(p, a, codes, book, sc, r, y);
  });
}

template <class Book, int MT>
void sop_rows_block(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  switch (p.group) {
    case 8: sop_rows<8, Book, MT>(p, a, r0, r1, y); break;
    case 16: sop_rows<16, Book, MT>(p, a, r0, r1, y); break;
    case 32: sop_rows<32, Book, MT>(p, a, r0, r1, y); break;
    default: sop_rows<64, Book, MT>(p, a, r0, r1, y); break;
  }
}

template <class Book>
void sop_rows_batch(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  switch (a.batch) {
    case 1: sop_rows_block<Book, 1>(p, a, r0, r1, y); break;
    case 2: sop_rows_block<Book, 2>(p, a, r0, r1, y); break;
    case 3: sop_rows_block<Book, 3>(p, a, r0, r1, y); break;
    default: sop_rows_block<Book, 4>(p, a, r0, r1, y); break;
  }
}

}  // namespace

bool sop_rows_avx512_handles(const PackedLayer& p) {
  return p.scheme == Scheme::kSop && (p.bits == 4 || p.bits == 6) && p.sop_book.size() <= kMaxScaleCodes &&
         (p.group == 8 || p.group == 16 || p.group == 32 || p.group == 64);
}

void sop_f32_rows_avx512(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  const bool one = p.shared.size() == (size_t(1) << p.bits);
  if (p.bits == 4) {
    if (one)
      sop_rows_batch<One4>(p, a, r0, r1, y);
    else
      sop_rows_batch<Pair4>(p, a, r0, r1, y);
    return;
  }
  const bool sym = sign_symmetric6(p);
  if (one && sym)
    sop_rows_batch<One6<true>>(p, a, r0, r1, y);
  else if (one)
    sop_rows_batch<One6<false>>(p, a, r0, r1, y);
  else if (sym)
    sop_rows_batch<Pair6<true>>(p, a, r0, r1, y);
  else
    sop_rows_batch<Pair6<false>>(p, a, r0, r1, y);
}

}  // namespace lutc::kernels

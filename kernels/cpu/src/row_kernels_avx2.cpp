// AVX2 + FMA + F16C kernels. A 16-entry fp32 table spans two registers:
// vpermps looks up both halves and bit 3 of the code picks one (blendv on the
// code shifted into the sign bit). Dense sop layers (blocks of 8 or 16, 2 or 4
// groups per block of 32) go a block at a time, each run of 8 codes with its
// group's scale; their f32 rows look the codebook up as fp16 byte planes. The
// i8 path is vpshufb + vpmaddubsw with the sign trick (|w| unsigned, sign
// moved onto the activation). The f32 rows go a few rows at a time, so that
// each activation load of a batch feeds several rows' FMAs.
#include <immintrin.h>

#include <cstring>
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
      const unsigned c = sop_code(p, gi);
      const __m256 s = _mm256_set1_ps(p.sop_scale[c]);
      const float* book = p.shared.data() + size_t(p.sop_book[c]) * 16;
      return {_mm256_mul_ps(_mm256_loadu_ps(book), s), _mm256_mul_ps(_mm256_loadu_ps(book + 8), s)};
    }
    default: return {_mm256_setzero_ps(), _mm256_setzero_ps()};
  }
}

// Codes 8u..8u+7 of a block of 32 (run u) as lookup indices. Runs 0/2 and
// 1/3 are the low/high nibbles of bytes 0-7 and 8-15, so one zero-extension
// of 8 bytes serves two runs. vpermps reads bits 0-2 of each index and blendv
// the sign bit, so a run needs at most a shift, never a mask.
struct Run {
  __m256i idx, sel;
};

LUTC_AVX2 inline __m256i run_bytes(const uint8_t* block, int u) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(block + 8 * (u & 1))));
}

LUTC_AVX2 inline Run run_of(__m256i bytes, int u) {
  if (u < 2) return {bytes, _mm256_slli_epi32(bytes, 28)};
  return {_mm256_srli_epi32(bytes, 4), _mm256_slli_epi32(bytes, 24)};
}

LUTC_AVX2 inline __m256 lookup(__m256 lo, __m256 hi, const Run& c) {
  const __m256 a = _mm256_permutevar8x32_ps(lo, c.idx);
  const __m256 b = _mm256_permutevar8x32_ps(hi, c.idx);
  return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(c.sel));
}

LUTC_AVX2 inline __m256 lookup(const Table16& t, const Run& c) { return lookup(t.lo, t.hi, c); }

// The scale codes of a dense block's groups (the first `groups` of them
// exist; the rest read as code 0): one load when the block is whole.
template <uint32_t kGroups, class Code>
inline void block_scale_codes(const Code* src, uint32_t groups, uint16_t* c) {
  static_assert(kGroups == 2 || kGroups == 4, "dense blocks hold 2 or 4 groups");
  constexpr unsigned kBits = 8 * sizeof(Code);
  if (groups == kGroups) {
    uint64_t v = 0;
    std::memcpy(&v, src, kGroups * sizeof(Code));
    for (uint32_t j = 0; j < kGroups; ++j) c[j] = uint16_t((v >> (kBits * j)) & ((1u << kBits) - 1));
  } else {
    for (uint32_t j = 0; j < kGroups; ++j) c[j] = j < groups ? src[j] : 0;
  }
}

LUTC_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Rows r .. r + R - 1 against MT vectors: each activation load feeds R rows'
// FMAs. Row by row, a batch re-read all MT vectors from L2 per row (MT x 16
// KiB at K = 4096 leaves L1), and those loads set the speed. One accumulator
// per (row, vector); with R = 1 two per vector, so a lone row still has two
// FMA chains.
template <int MT, int R>
LUTC_AVX2 void f32_rows4_tile(const PackedLayer& p, const FastActivations& a, uint32_t r, float* y) {
  constexpr int C = R == 1 ? 2 : 1;
  __m256 acc[R][MT][C];
  const uint8_t* row[R];
  for (int i = 0; i < R; ++i) {
    for (int m = 0; m < MT; ++m)
      for (int c = 0; c < C; ++c) acc[i][m][c] = _mm256_setzero_ps();
    row[i] = p.indices.data() + size_t(r + i) * p.row_bytes;
  }
  const bool books = R > 1 && p.scheme == Scheme::kXfpV2;
  for (uint32_t g = 0; g < p.groups_per_row; ++g) {
    if (books) prefetch_v2_codebooks<R>(p, r, g);
    Table16 t[R];
    for (int i = 0; i < R; ++i) t[i] = table16(p, r + i, g);
    const size_t src = size_t(g) * p.group_bytes;
    const float* xg = a.x + size_t(g) * p.group_padded;
    for (uint32_t b = 0; b < p.group_padded; b += kBlock) {
      if (R > 1 && (b & 127) == 0)
        for (int i = 0; i < R; ++i)
          _mm_prefetch(reinterpret_cast<const char*>(row[i] + src + b / 2) + kPrefetchBytes, _MM_HINT_T0);
      for (int u = 0; u < 4; ++u) {
        __m256 w[R];
        for (int i = 0; i < R; ++i) w[i] = lookup(t[i], run_of(run_bytes(row[i] + src + b / 2, u), u));
        for (int m = 0; m < MT; ++m) {
          const __m256 x = _mm256_loadu_ps(xg + m * a.stride + b + 8 * u);
          for (int i = 0; i < R; ++i) acc[i][m][u % C] = _mm256_fmadd_ps(w[i], x, acc[i][m][u % C]);
        }
      }
    }
  }
  for (int i = 0; i < R; ++i)
    for (int m = 0; m < MT; ++m) {
      float s = hsum(C == 1 ? acc[i][m][0] : _mm256_add_ps(acc[i][m][0], acc[i][m][C - 1]));
      add_outliers(p, a, r + i, m, &s);
      y[size_t(m) * p.rows + r + i] = s;
    }
}

template <int MT>
LUTC_AVX2 void f32_rows4(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  // Rows per tile, measured (one Zen 4 thread, int4.g128 11008x4096): R
  // tables (two registers each), R x MT accumulators and R weights share 16
  // registers, and a row more than fits spills (batch 4: R = 2 4.7 ms, 3 6.1
  // ms). Batch 1 gains a little from interleaved rows too (3.05 -> 2.87 ms).
  constexpr int R = MT == 1 ? 3 : MT == 3 ? 3 : 2;
  uint32_t r = r0;
  if constexpr (R > 1)
    for (; r + R <= r1; r += R) f32_rows4_tile<MT, R>(p, a, r, y);
  for (; r < r1; ++r) f32_rows4_tile<MT, 1>(p, a, r, y);
}

// The sop codebooks are fp16 values widened exactly, so their bytes as two
// 16-entry planes (low, high) let two vpshufb and two unpacks look up a
// block's 32 codes as fp16, and vcvtph2ps widens them exactly; times the
// group's fp32 scale that is the golden decode's product. Fewer shuffles per
// block than vpermps pairs with blends (dense b8 f32 rows ran ~25% faster).
struct HalfPlanes {
  // [2 * book of the lower lane + book of the upper lane][low, high byte]:
  // a paired layer's two lanes get their tables in one load.
  alignas(32) uint8_t t[4][2][32];
};

LUTC_AVX2 inline HalfPlanes half_planes(const PackedLayer& p) {
  uint8_t b[2][2][16] = {};
  for (size_t k = 0; k < p.shared.size() / 16 && k < 2; ++k)
    for (unsigned j = 0; j < 16; ++j) {
      const uint16_t v = _cvtss_sh(p.shared[k * 16 + j], _MM_FROUND_TO_NEAREST_INT);
      b[k][0][j] = uint8_t(v);
      b[k][1][j] = uint8_t(v >> 8);
    }
  HalfPlanes h;
  for (unsigned c = 0; c < 4; ++c)
    for (unsigned plane = 0; plane < 2; ++plane)
      for (unsigned j = 0; j < 16; ++j) {
        h.t[c][plane][j] = b[c / 2][plane][j];
        h.t[c][plane][16 + j] = b[c % 2][plane][j];
      }
  return h;
}

LUTC_AVX2 inline __m256i planes2(const HalfPlanes& h, unsigned book_lo, unsigned book_hi, int plane) {
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(h.t[2 * book_lo + book_hi][plane]));
}

// Rows r .. r + R - 1 of a dense layer against MT vectors, as f32_rows4_tile.
template <int MT, uint32_t G, bool kPaired, int R, class Code>
LUTC_AVX2 void f32_dense_tile(const PackedLayer& p, const FastActivations& a, const HalfPlanes& h, const Code* codes,
                              uint32_t r, float* y) {
  constexpr uint32_t kGroups = kBlock / G;  // per block
  constexpr int C = R == 1 ? 2 : 1;
  const uint32_t full = p.groups_per_row / kGroups, blocks = p.padded_cols() / kBlock;
  const __m256i low4 = _mm256_set1_epi8(15);
  const __m256i nibble = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
  const uint8_t* books = p.sop_book.data();
  const float* scales = p.sop_scale.data();
  __m256 acc[R][MT][C];
  const uint8_t* row[R];
  const Code* scale_codes[R];
  for (int i = 0; i < R; ++i) {
    for (int m = 0; m < MT; ++m)
      for (int c = 0; c < C; ++c) acc[i][m][c] = _mm256_setzero_ps();
    row[i] = p.indices.data() + size_t(r + i) * p.row_bytes;
    scale_codes[i] = codes + size_t(r + i) * p.groups_per_row;
  }
  // A row's last block may hold fewer groups; only their runs are summed.
  auto block = [&](uint32_t blk, uint32_t groups) LUTC_AVX2 {
    uint16_t c[R][kGroups];
    __m128i run[R][4];
    for (int i = 0; i < R; ++i) {
      if (R > 1 && (blk & 3) == 0)
        _mm_prefetch(reinterpret_cast<const char*>(row[i] + size_t(blk) * (kBlock / 2)) + kPrefetchBytes, _MM_HINT_T0);
      block_scale_codes<kGroups>(scale_codes[i] + blk * kGroups, groups, c[i]);
      const __m256i raw = _mm256_broadcastsi128_si256(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(row[i] + size_t(blk) * (kBlock / 2))));
      const __m256i idx = _mm256_and_si256(_mm256_srlv_epi32(raw, nibble), low4);
      __m256i lob, hib;
      if constexpr (!kPaired) {
        lob = _mm256_shuffle_epi8(planes2(h, 0, 0, 0), idx);
        hib = _mm256_shuffle_epi8(planes2(h, 0, 0, 1), idx);
      } else if constexpr (G == 16) {
        const unsigned b0 = books[c[i][0]], b1 = books[c[i][1]];
        lob = _mm256_shuffle_epi8(planes2(h, b0, b1, 0), idx);
        hib = _mm256_shuffle_epi8(planes2(h, b0, b1, 1), idx);
      } else {
        // Bytes 0-7 of each lane are one group, 8-15 the next.
        const unsigned b0 = books[c[i][0]], b1 = books[c[i][1]], b2 = books[c[i][2]], b3 = books[c[i][3]];
        lob = _mm256_blend_epi32(_mm256_shuffle_epi8(planes2(h, b0, b2, 0), idx),
                                 _mm256_shuffle_epi8(planes2(h, b1, b3, 0), idx), 0xCC);
        hib = _mm256_blend_epi32(_mm256_shuffle_epi8(planes2(h, b0, b2, 1), idx),
                                 _mm256_shuffle_epi8(planes2(h, b1, b3, 1), idx), 0xCC);
      }
      const __m256i h0 = _mm256_unpacklo_epi8(lob, hib), h1 = _mm256_unpackhi_epi8(lob, hib);
      run[i][0] = _mm256_castsi256_si128(h0);
      run[i][1] = _mm256_castsi256_si128(h1);
      run[i][2] = _mm256_extracti128_si256(h0, 1);
      run[i][3] = _mm256_extracti128_si256(h1, 1);
    }
    const float* x = a.x + size_t(blk) * kBlock;
    for (uint32_t u = 0; u < groups * (G / 8); ++u) {
      __m256 w[R];
      for (int i = 0; i < R; ++i)
        w[i] = _mm256_mul_ps(_mm256_cvtph_ps(run[i][u]), _mm256_set1_ps(scales[c[i][8 * u / G]]));
      for (int m = 0; m < MT; ++m) {
        const __m256 xv = _mm256_loadu_ps(x + m * a.stride + 8 * u);
        for (int i = 0; i < R; ++i) acc[i][m][u % C] = _mm256_fmadd_ps(w[i], xv, acc[i][m][u % C]);
      }
    }
  };
  for (uint32_t i = 0; i < full; ++i) block(i, kGroups);
  if (full < blocks) block(full, p.groups_per_row % kGroups);
  for (int i = 0; i < R; ++i)
    for (int m = 0; m < MT; ++m) {
      float s = hsum(C == 1 ? acc[i][m][0] : _mm256_add_ps(acc[i][m][0], acc[i][m][C - 1]));
      add_outliers(p, a, r + i, m, &s);
      y[size_t(m) * p.rows + r + i] = s;
    }
}

template <int MT, uint32_t G, bool kPaired>
LUTC_AVX2 void f32_rows_dense(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  // Rows per tile, measured as f32_rows4's (e2m1.ue4m3.b16): a row's block
  // waits as fp16 in two registers and needs no table registers, so a row
  // more fits than there (batch 3: R = 3 3.6 ms, 4 4.7 ms; batch 1: 4 rows
  // 2.6 ms, 1 row 3.0 ms).
  constexpr int R = MT == 1 ? 4 : 3;
  const HalfPlanes h = half_planes(p);
  with_sop_codes(p, [&](const auto* codes) {
    uint32_t r = r0;
    if constexpr (R > 1)
      for (; r + R <= r1; r += R) f32_dense_tile<MT, G, kPaired, R>(p, a, h, codes, r, y);
    for (; r < r1; ++r) f32_dense_tile<MT, G, kPaired, 1>(p, a, h, codes, r, y);
  });
}

// Codes other than 4-bit, and 6-bit outside sop. Dense sop layers with 2-,
// 3-, 5- or 8-bit codes come here too: group_codes() reads either layout,
// and an 8-bit group's codes start at byte g * group_bytes in both.
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
        const unsigned c = sop_code(p, size_t(r) * p.groups_per_row + g);
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

// Dense i8 rows: a block's 32 codes as one vector (low nibbles in the lower
// lane, high in the upper), looked up in the tables of the groups they hold.
// Dword lane k of the block's dot product covers elements 4k..4k+3, so one
// vector of the groups' table scales weights the whole block.
template <int MT, uint32_t G, bool kPaired, class Code>
LUTC_AVX2 void i8_rows_dense(const PackedLayer& p, const FastActivations& a, const Code* codes, uint32_t r0,
                             uint32_t r1, float* y) {
  constexpr uint32_t kGroups = kBlock / G;  // per block
  const uint32_t full = p.groups_per_row / kGroups, blocks = p.padded_cols() / kBlock;
  const __m256i low4 = _mm256_set1_epi8(15);
  const __m256i nibble = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
  const __m256i ones = _mm256_set1_epi16(1);
  // Tables of [book of the lower lane, book of the upper lane], one load each.
  alignas(32) int8_t t8[4][32];
  for (unsigned c = 0; c < 4; ++c)
    for (unsigned j = 0; j < 16; ++j) {
      t8[c][j] = p.shared_i8[kPaired ? 16 * (c / 2) + j : j];
      t8[c][16 + j] = p.shared_i8[kPaired ? 16 * (c % 2) + j : j];
    }
  auto table = [&](unsigned lo, unsigned hi)
                   LUTC_AVX2 { return _mm256_load_si256(reinterpret_cast<const __m256i*>(t8[2 * lo + hi])); };
  const __m256i t_one = table(0, 0);
  // Each scale code's table scale, once per call: a paired layer would
  // otherwise load the book twice and two scales per group.
  std::vector<float> ts_of(p.sop_scale.size());
  for (size_t c = 0; c < ts_of.size(); ++c) ts_of[c] = p.shared_i8_scale[p.sop_book[c]] * p.sop_scale[c];
  const uint8_t* books = p.sop_book.data();
  for (uint32_t r = r0; r < r1; ++r) {
    __m256 acc[MT];
    for (int m = 0; m < MT; ++m) acc[m] = _mm256_setzero_ps();
    const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
    const Code* scale_codes = codes + size_t(r) * p.groups_per_row;
    // Groups past the row's last one (in its last block) get scale 0; their
    // codes and activations are zero padding.
    auto block = [&](uint32_t i, uint32_t groups) LUTC_AVX2 {
      uint16_t c[kGroups];
      block_scale_codes<kGroups>(scale_codes + i * kGroups, groups, c);
      float ts[kGroups];
      unsigned bk[kGroups];
      for (uint32_t j = 0; j < kGroups; ++j) {
        ts[j] = j < groups ? ts_of[c[j]] : 0.0f;
        bk[j] = kPaired ? books[c[j]] : 0;
      }
      const __m256i raw = _mm256_broadcastsi128_si256(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + size_t(i) * (kBlock / 2))));
      const __m256i idx = _mm256_and_si256(_mm256_srlv_epi32(raw, nibble), low4);
      __m256i w;
      __m256 tsv;
      if constexpr (G == 16) {
        w = _mm256_shuffle_epi8(kPaired ? table(bk[0], bk[1]) : t_one, idx);
        tsv = _mm256_setr_m128(_mm_set1_ps(ts[0]), _mm_set1_ps(ts[1]));
      } else {
        // Bytes 0-7 of each lane are one group, 8-15 the next.
        w = kPaired ? _mm256_blend_epi32(_mm256_shuffle_epi8(table(bk[0], bk[2]), idx),
                                         _mm256_shuffle_epi8(table(bk[1], bk[3]), idx), 0xCC)
                    : _mm256_shuffle_epi8(t_one, idx);
        tsv = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_setr_ps(ts[0], ts[1], ts[2], ts[3])),
                                       _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
      }
      const __m256i wabs = _mm256_abs_epi8(w);
      for (int m = 0; m < MT; ++m) {
        const __m256i q =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.q + m * a.q_stride + size_t(i) * kBlock));
        const __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(wabs, _mm256_sign_epi8(q, w)), ones);
        const __m256 d = _mm256_loadu_ps(a.d8 + m * a.d_stride + size_t(i) * 8);
        acc[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(d, tsv), acc[m]);
      }
    };
    for (uint32_t i = 0; i < full; ++i) block(i, kGroups);
    if (full < blocks) block(full, p.groups_per_row % kGroups);
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
      const __m256i bytes[2] = {run_bytes(src + b / 2, 0), run_bytes(src + b / 2, 1)};
      float* dst = b + kBlock <= n ? out + k0 + b : tmp;
      for (int u = 0; u < 4; ++u) _mm256_storeu_ps(dst + 8 * u, lookup(t, run_of(bytes[u & 1], u)));
      if (dst == tmp)
        for (uint32_t k = 0; k < n - b; ++k) out[k0 + b + k] = tmp[k];
    }
  }
  put_outliers(p, r, out);
}

// Dense layout: padded coordinates are the row's own, so run j (elements
// 8j..8j+7, a whole group or half of one) lands at out + 8j; only a run
// crossing cols goes through tmp.
LUTC_AVX2 void decode_row4_dense(const PackedLayer& p, uint32_t r, float* out) {
  alignas(32) float tmp[8];
  const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
  const uint32_t runs = (p.cols + 7) / 8, runs_per_group = p.group / 8;
  Table16 t{};
  for (uint32_t j = 0; j < runs; ++j) {
    const int u = int(j % 4);
    if (j % runs_per_group == 0) t = table16(p, r, j / runs_per_group);
    const __m256 w = lookup(t, run_of(run_bytes(row + size_t(j / 4) * (kBlock / 2), u), u));
    if (8 * j + 8 <= p.cols) {
      _mm256_storeu_ps(out + 8 * j, w);
    } else {
      _mm256_store_ps(tmp, w);
      for (uint32_t k = 0; k < p.cols - 8 * j; ++k) out[8 * j + k] = tmp[k];
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

// Dense 4-bit rows by block size and by whether the layer has two codebooks.
template <template <int, uint32_t, bool> class K, int MT>
void dense(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  const bool paired = p.shared.size() > 16;
  if (p.group == 8)
    paired ? K<MT, 8, true>::run(p, a, r0, r1, y) : K<MT, 8, false>::run(p, a, r0, r1, y);
  else
    paired ? K<MT, 16, true>::run(p, a, r0, r1, y) : K<MT, 16, false>::run(p, a, r0, r1, y);
}

template <int MT, uint32_t G, bool kPaired>
struct F32Dense {
  static void run(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
    f32_rows_dense<MT, G, kPaired>(p, a, r0, r1, y);
  }
};

template <int MT, uint32_t G, bool kPaired>
struct I8Dense {
  static void run(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
    with_sop_codes(p, [&](const auto* codes) { i8_rows_dense<MT, G, kPaired>(p, a, codes, r0, r1, y); });
  }
};

template <int MT>
struct F32 {
  static void run(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
    if (sop_rows_avx2_handles(p)) return sop_f32_rows_avx2(p, a, r0, r1, y);
    if (p.bits == 4 && p.dense())
      dense<F32Dense, MT>(p, a, r0, r1, y);
    else if (p.bits == 4)
      f32_rows4<MT>(p, a, r0, r1, y);
    else
      f32_rows_gather<MT>(p, a, r0, r1, y);
  }
};

template <int MT>
struct I8 {
  static void run(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
    if (p.dense())
      dense<I8Dense, MT>(p, a, r0, r1, y);
    else
      i8_rows4<MT>(p, a, r0, r1, y);
  }
};

void decode_row(const PackedLayer& p, uint32_t r, float* out) {
  if (p.bits == 4 && p.dense())
    decode_row4_dense(p, r, out);
  else if (p.bits == 4)
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

// AVX2 f32 rows for sop layers with 6-bit codes (FP6 E2M3, INT6): the generic
// path rebuilt a 64-entry table for every block of 8..64 weights; here each
// weight is the codebook value (fp16, widened exactly) times the block's
// signed scale, the golden decode's one product. The codes are one bit
// stream along the row in either layout (element e from bit 6e).
//  - One codebook: a block of 32 codes at a time, the codebook in registers
//    (sop6_rows_planes), about twice the gather's speed.
//  - Two codebooks: the 8 codes from element e (e % 8 == 0) are the 6 bytes
//    from byte 6e/8: an 8-byte load broadcast to every qword, one vpshufb
//    (lane L moves bytes 3L..3L+2 into each dword) and one vpsrlvd by
//    0/6/12/18 unpack them, and a gather reads their book (256 B, in L1).
// Activations in element order.
#include <immintrin.h>

#include "row_kernels.h"

#define LUTC_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace lutc::kernels {
namespace {

// Lane L of each dword: bytes 3L..3L+2, which hold codes 4L..4L+3.
LUTC_AVX2 inline __m256i unpack_ctrl() {
  alignas(32) char c[32];
  for (int l = 0; l < 2; ++l)
    for (int d = 0; d < 4; ++d) {
      c[16 * l + 4 * d + 0] = char(3 * l);
      c[16 * l + 4 * d + 1] = char(3 * l + 1);
      c[16 * l + 4 * d + 2] = char(3 * l + 2);
      c[16 * l + 4 * d + 3] = char(-1);
    }
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(c));
}

template <int MT, class Code>
LUTC_AVX2 void sop6_rows(const PackedLayer& p, const FastActivations& a, const Code* scale_codes, uint32_t r0,
                         uint32_t r1, float* y) {
  const __m256i ctrl = unpack_ctrl();
  const __m256i shifts = _mm256_setr_epi32(0, 6, 12, 18, 0, 6, 12, 18);
  const __m256i six = _mm256_set1_epi32(63);
  const uint32_t eighths = (p.group + 7) / 8;  // 8-weight steps per group (blocks are 8..64)
  const uint8_t* books = p.sop_book.data();
  const float* scales = p.sop_scale.data();
  const float* shared = p.shared.data();
  auto group = [&](const uint8_t* row, const Code* codes_of_row, uint32_t g, __m256* acc) LUTC_AVX2 {
    const unsigned c = codes_of_row[g];
    const float* book = shared + size_t(books[c]) * 64;
    const __m256 scale = _mm256_set1_ps(scales[c]);
    // Reads up to 2 bytes past the group's codes: in the row's next group, or
    // in the allocation's slack after the last row.
    const uint8_t* src = row + size_t(g) * p.group_padded * 6 / 8;
    const float* xg = a.x + size_t(g) * p.group_padded;
    for (uint32_t t = 0; t < eighths; ++t) {
      const __m256i v = _mm256_broadcastq_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + 6 * t)));
      const __m256i idx = _mm256_and_si256(_mm256_srlv_epi32(_mm256_shuffle_epi8(v, ctrl), shifts), six);
      const __m256 w = _mm256_mul_ps(_mm256_i32gather_ps(book, idx, 4), scale);
      for (int m = 0; m < MT; ++m) acc[m] = _mm256_fmadd_ps(w, _mm256_loadu_ps(xg + m * a.stride + 8 * t), acc[m]);
    }
  };
  for (uint32_t r = r0; r < r1; ++r) {
    __m256 acc0[MT], acc1[MT];  // even and odd groups: two independent FMA chains
    for (int m = 0; m < MT; ++m) acc0[m] = acc1[m] = _mm256_setzero_ps();
    const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
    const Code* codes_of_row = scale_codes + size_t(r) * p.groups_per_row;
    uint32_t g = 0;
    for (; g + 1 < p.groups_per_row; g += 2) {
      group(row, codes_of_row, g, acc0);
      group(row, codes_of_row, g + 1, acc1);
    }
    if (g < p.groups_per_row) group(row, codes_of_row, g, acc0);
    for (int m = 0; m < MT; ++m) {
      const __m256 s8 = _mm256_add_ps(acc0[m], acc1[m]);
      __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
      s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
      float sum = _mm_cvtss_f32(_mm_add_ss(s4, _mm_movehdup_ps(s4)));
      add_outliers(p, a, r, m, &sum);
      y[size_t(m) * p.rows + r] = sum;
    }
  }
}

// One codebook (the common case): a whole block of 32 codes at a time, with
// the codebook in registers as fp16 byte planes instead of a gather per 8
// codes. Each plane's 64 entries are four 16-byte tables chained by XOR
// (T0, T0^T1, T1^T2, T2^T3): vpshufb by i, i-16, i-32, i-48 (a negative index
// gives 0) XORs to entry i. vcvtph2ps widens the fp16 codebook values
// exactly, so each weight is still the golden decode's one product.
struct Planes64 {
  __m256i lo[4], hi[4];
};

LUTC_AVX2 inline Planes64 planes64(const float* book) {
  alignas(16) uint8_t t[2][4][16];
  for (unsigned j = 0; j < 64; ++j) {
    const uint16_t v = _cvtss_sh(book[j], _MM_FROUND_TO_NEAREST_INT);
    t[0][j / 16][j % 16] = uint8_t(v);
    t[1][j / 16][j % 16] = uint8_t(v >> 8);
  }
  Planes64 pl;
  for (int k = 0; k < 4; ++k) {
    __m128i l = _mm_load_si128(reinterpret_cast<const __m128i*>(t[0][k]));
    __m128i h = _mm_load_si128(reinterpret_cast<const __m128i*>(t[1][k]));
    if (k > 0) {
      l = _mm_xor_si128(l, _mm_load_si128(reinterpret_cast<const __m128i*>(t[0][k - 1])));
      h = _mm_xor_si128(h, _mm_load_si128(reinterpret_cast<const __m128i*>(t[1][k - 1])));
    }
    pl.lo[k] = _mm256_broadcastsi128_si256(l);
    pl.hi[k] = _mm256_broadcastsi128_si256(h);
  }
  return pl;
}

// Lane L holds codes 16L..16L+15 (bytes 12L..12L+11 of the block); dword d
// of a lane takes bytes 3d, 3d+1, 3d+1, 3d+2, so its low word holds codes
// 4d, 4d+1 at bits 0-11 and its high word codes 4d+2, 4d+3 at bits 4-15.
LUTC_AVX2 inline __m256i spread_ctrl() {
  alignas(32) char c[32];
  for (int l = 0; l < 2; ++l)
    for (int d = 0; d < 4; ++d) {
      c[16 * l + 4 * d + 0] = char(3 * d);
      c[16 * l + 4 * d + 1] = char(3 * d + 1);
      c[16 * l + 4 * d + 2] = char(3 * d + 1);
      c[16 * l + 4 * d + 3] = char(3 * d + 2);
    }
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(c));
}

// Rows r .. r + R - 1 against MT vectors: each activation load feeds R rows'
// FMAs instead of every row re-reading the MT vectors from L2. One
// accumulator per (row, vector); a lone row keeps two per vector.
template <int MT, uint32_t G, int R, class Code>
LUTC_AVX2 void sop6_planes_tile(const PackedLayer& p, const FastActivations& a, const Planes64& pl, const Code* codes,
                                uint32_t r, float* y) {
  constexpr uint32_t kGroups = G < kBlock ? kBlock / G : 1;  // groups per block
  constexpr uint32_t kBlocks = G > kBlock ? G / kBlock : 1;  // blocks per group
  constexpr uint32_t kBlockBytes = kBlock * 6 / 8;
  constexpr int C = R == 1 ? 2 : 1;
  const uint32_t blocks = p.padded_cols() / kBlock, full = p.groups_per_row / kGroups * kBlocks;
  const __m256i ctrl = spread_ctrl();
  const __m256i m6 = _mm256_set1_epi16(0x003F), m6hi = _mm256_set1_epi16(0x3F00);
  const __m256i k16 = _mm256_set1_epi8(16), k32 = _mm256_set1_epi8(32), k48 = _mm256_set1_epi8(48);
  const float* scales = p.sop_scale.data();
  auto plane = [&](const __m256i* t, __m256i i0, __m256i i1, __m256i i2, __m256i i3) LUTC_AVX2 {
    return _mm256_xor_si256(_mm256_xor_si256(_mm256_shuffle_epi8(t[0], i0), _mm256_shuffle_epi8(t[1], i1)),
                            _mm256_xor_si256(_mm256_shuffle_epi8(t[2], i2), _mm256_shuffle_epi8(t[3], i3)));
  };
  __m256 acc[R][MT][C];
  const uint8_t* row[R];
  const Code* scale_codes[R];
  for (int i = 0; i < R; ++i) {
    for (int m = 0; m < MT; ++m)
      for (int c = 0; c < C; ++c) acc[i][m][c] = _mm256_setzero_ps();
    row[i] = p.indices.data() + size_t(r + i) * p.row_bytes;
    scale_codes[i] = codes + size_t(r + i) * p.groups_per_row;
  }
  // The runs of 8 that belong to groups of this row (fewer only in the last
  // block of a dense row). Reads 4 bytes past the block: the next block's, or
  // the allocation's slack after the last row.
  auto block = [&](uint32_t blk, uint32_t runs) LUTC_AVX2 {
    __m128i run[R][4];
    for (int i = 0; i < R; ++i) {
      const uint8_t* src = row[i] + size_t(blk) * kBlockBytes;
      if (R > 1 && blk % 2 == 0) _mm_prefetch(reinterpret_cast<const char*>(src) + kPrefetchBytes, _MM_HINT_T0);
      const __m256i raw =
          _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(src + 12), reinterpret_cast<const __m128i*>(src));
      const __m256i u = _mm256_shuffle_epi8(raw, ctrl);
      const __m256i t = _mm256_blend_epi16(u, _mm256_srli_epi16(u, 4), 0xAA);
      const __m256i i0 = _mm256_or_si256(_mm256_and_si256(t, m6), _mm256_and_si256(_mm256_slli_epi16(t, 2), m6hi));
      const __m256i i1 = _mm256_sub_epi8(i0, k16), i2 = _mm256_sub_epi8(i0, k32), i3 = _mm256_sub_epi8(i0, k48);
      const __m256i lob = plane(pl.lo, i0, i1, i2, i3), hib = plane(pl.hi, i0, i1, i2, i3);
      const __m256i h0 = _mm256_unpacklo_epi8(lob, hib), h1 = _mm256_unpackhi_epi8(lob, hib);
      run[i][0] = _mm256_castsi256_si128(h0);
      run[i][1] = _mm256_castsi256_si128(h1);
      run[i][2] = _mm256_extracti128_si256(h0, 1);
      run[i][3] = _mm256_extracti128_si256(h1, 1);
    }
    const float* x = a.x + size_t(blk) * kBlock;
    for (uint32_t k = 0; k < runs; ++k) {
      __m256 w[R];
      for (int i = 0; i < R; ++i)
        w[i] = _mm256_mul_ps(_mm256_cvtph_ps(run[i][k]),
                             _mm256_set1_ps(scales[scale_codes[i][(kBlock * blk + 8 * k) / G]]));
      for (int m = 0; m < MT; ++m) {
        const __m256 xv = _mm256_loadu_ps(x + m * a.stride + 8 * k);
        for (int i = 0; i < R; ++i) acc[i][m][k % C] = _mm256_fmadd_ps(w[i], xv, acc[i][m][k % C]);
      }
    }
  };
  for (uint32_t i = 0; i < full; ++i) block(i, 4);
  if (full < blocks) block(full, p.groups_per_row % kGroups * (G / 8));
  for (int i = 0; i < R; ++i)
    for (int m = 0; m < MT; ++m) {
      const __m256 s8 = C == 1 ? acc[i][m][0] : _mm256_add_ps(acc[i][m][0], acc[i][m][C - 1]);
      __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
      s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
      float sum = _mm_cvtss_f32(_mm_add_ss(s4, _mm_movehdup_ps(s4)));
      add_outliers(p, a, r + i, m, &sum);
      y[size_t(m) * p.rows + r + i] = sum;
    }
}

template <int MT, uint32_t G, class Code>
LUTC_AVX2 void sop6_rows_planes(const PackedLayer& p, const FastActivations& a, const Code* codes, uint32_t r0,
                                uint32_t r1, float* y) {
  // Rows per tile, measured (one Zen 4 thread, e2m3.ue4m4.b16 11008x4096):
  // the codebook planes take 8 of the 16 registers whatever R is, so they
  // are reloaded from L1 anyway, and interleaved rows hide the decode's long
  // shuffle chains even at batch 1 (6.5 -> 5.3 ms); batch 4 spills past 3.
  constexpr int R = MT == 4 ? 3 : 4;
  const Planes64 pl = planes64(p.shared.data());
  uint32_t r = r0;
  if constexpr (R > 1)
    for (; r + R <= r1; r += R) sop6_planes_tile<MT, G, R>(p, a, pl, codes, r, y);
  for (; r < r1; ++r) sop6_planes_tile<MT, G, 1>(p, a, pl, codes, r, y);
}

template <int MT, class Code>
void sop6_codes(const PackedLayer& p, const FastActivations& a, const Code* codes, uint32_t r0, uint32_t r1, float* y) {
  if (p.shared.size() != 64) return sop6_rows<MT>(p, a, codes, r0, r1, y);
  switch (p.group) {
    case 8: return sop6_rows_planes<MT, 8>(p, a, codes, r0, r1, y);
    case 16: return sop6_rows_planes<MT, 16>(p, a, codes, r0, r1, y);
    case 32: return sop6_rows_planes<MT, 32>(p, a, codes, r0, r1, y);
    case 64: return sop6_rows_planes<MT, 64>(p, a, codes, r0, r1, y);
    default: return sop6_rows<MT>(p, a, codes, r0, r1, y);
  }
}

template <int MT>
void sop6_dispatch(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  with_sop_codes(p, [&](const auto* codes) { sop6_codes<MT>(p, a, codes, r0, r1, y); });
}

}  // namespace

bool sop_rows_avx2_handles(const PackedLayer& p) { return p.scheme == Scheme::kSop && p.bits == 6; }

void sop_f32_rows_avx2(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  switch (a.batch) {
    case 1: sop6_dispatch<1>(p, a, r0, r1, y); break;
    case 2: sop6_dispatch<2>(p, a, r0, r1, y); break;
    case 3: sop6_dispatch<3>(p, a, r0, r1, y); break;
    default: sop6_dispatch<4>(p, a, r0, r1, y); break;
  }
}

}  // namespace lutc::kernels

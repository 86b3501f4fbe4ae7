// AVX2 f32 rows for sop layers with 6-bit codes (FP6 E2M3, INT6): the generic
// path rebuilt a 64-entry table for every block of 8..64 weights; here each
// weight is gathered straight from the layer's codebook (one or two, 256 B
// each, always in L1) and multiplied by the block's signed scale, the golden
// decode's one product. 8 codes sit in 6 bytes (4 per 3 bytes), so a 16-byte
// load broadcast to both 128-bit lanes, one vpshufb (lane L moves bytes
// o+3L..o+3L+2 into each dword) and one vpsrlvd by 0/6/12/18 unpack them.
// Activations in element order.
#include <immintrin.h>

#include <array>

#include "row_kernels.h"

#define LUTC_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace lutc::kernels {
namespace {

// Codes 8t..8t+7 of a 6-bit block of 32 (24 bytes) sit at byte 6t; t = 2, 3
// load from byte 8 so the 16-byte load stays inside the block.
constexpr std::array<int, 4> kLoadAt = {0, 0, 8, 8};
constexpr std::array<int, 4> kOffset = {0, 6, 4, 10};

LUTC_AVX2 inline __m256i ctrl_for(int o) {
  alignas(32) char c[32];
  for (int l = 0; l < 2; ++l)
    for (int d = 0; d < 4; ++d) {
      c[16 * l + 4 * d + 0] = char(o + 3 * l);
      c[16 * l + 4 * d + 1] = char(o + 3 * l + 1);
      c[16 * l + 4 * d + 2] = char(o + 3 * l + 2);
      c[16 * l + 4 * d + 3] = char(-1);
    }
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(c));
}

template <int MT>
LUTC_AVX2 void sop6_rows(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  constexpr unsigned kBlockBytes = kBlock * 6 / 8;
  const __m256i ctrl[4] = {ctrl_for(kOffset[0]), ctrl_for(kOffset[1]), ctrl_for(kOffset[2]), ctrl_for(kOffset[3])};
  const __m256i shifts = _mm256_setr_epi32(0, 6, 12, 18, 0, 6, 12, 18);
  const __m256i six = _mm256_set1_epi32(63);
  const uint32_t eighths = (p.group + 7) / 8;  // 8-weight steps per group (blocks are 8..64)
  const uint8_t* books = p.sop_book.data();
  const float* scales = p.sop_scale.data();
  const float* shared = p.shared.data();
  auto group = [&](const uint8_t* row, const uint16_t* codes_of_row, uint32_t g, __m256* acc) LUTC_AVX2 {
    const uint16_t c = codes_of_row[g];
    const float* book = shared + size_t(books[c]) * 64;
    const __m256 scale = _mm256_set1_ps(scales[c]);
    const uint8_t* src = row + size_t(g) * p.group_bytes;
    const float* xg = a.x + size_t(g) * p.group_padded;
    for (uint32_t t = 0; t < eighths; ++t) {
      const uint8_t* block = src + (t / 4) * kBlockBytes;
      const unsigned sub = t % 4;
      const __m256i v =
          _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + kLoadAt[sub])));
      const __m256i idx = _mm256_and_si256(_mm256_srlv_epi32(_mm256_shuffle_epi8(v, ctrl[sub]), shifts), six);
      const __m256 w = _mm256_mul_ps(_mm256_i32gather_ps(book, idx, 4), scale);
      for (int m = 0; m < MT; ++m)
        acc[m] = _mm256_fmadd_ps(w, _mm256_loadu_ps(xg + m * a.stride + 8 * t), acc[m]);
    }
  };
  for (uint32_t r = r0; r < r1; ++r) {
    __m256 acc0[MT], acc1[MT];  // even and odd groups: two independent FMA chains
    for (int m = 0; m < MT; ++m) acc0[m] = acc1[m] = _mm256_setzero_ps();
    const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
    const uint16_t* codes_of_row = p.group_half.data() + size_t(r) * p.groups_per_row;
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

}  // namespace

bool sop_rows_avx2_handles(const PackedLayer& p) { return p.scheme == Scheme::kSop && p.bits == 6; }

void sop_f32_rows_avx2(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  switch (a.batch) {
    case 1: sop6_rows<1>(p, a, r0, r1, y); break;
    case 2: sop6_rows<2>(p, a, r0, r1, y); break;
    case 3: sop6_rows<3>(p, a, r0, r1, y); break;
    default: sop6_rows<4>(p, a, r0, r1, y); break;
  }
}

}  // namespace lutc::kernels

// The AVX-512 exact kernel for 4-bit codes (exact_limbs_avx512.h has the
// limb arithmetic): vpermw looks a limb up for 32 codes of a 16-entry table.
// Padded layouts walk each group in steps of 64 elements (32 code bytes);
// dense sop layers (b8/b16, several groups per block) walk the whole row and
// look each lane's limb up in its own group's table (DenseRow).
#include "exact_limbs_avx512.h"
#include "lutc/model/golden.h"
#include "row_kernels.h"

namespace lutc::kernels {
namespace {

// Limb tables of one group: L runs of 32 16-bit words, entries 0..15 used.
LUTC_AVX512 void group_limbs(const PackedLayer& p, uint32_t r, uint32_t g, int L, double unit, int16_t* out) {
  table_limbs(table16(p, r, g), L, unit, out, 32);
}

template <int L>
LUTC_AVX512 __int128 row_sum(const PackedLayer& p, const IntActivations& act, uint32_t m, uint32_t r,
                             const int16_t* limbs) {
  const __m512i low4 = _mm512_set1_epi16(15);
  LimbSums<L> sums;
  const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
  const int16_t* alo = act.lo.data() + m * act.lane_stride;
  const int16_t* ahi = act.hi.data() + m * act.lane_stride;
  for (uint32_t g = 0; g < p.groups_per_row; ++g) {
    const uint8_t* src = row + size_t(g) * p.group_bytes;
    const size_t a0 = size_t(g) * act.group_lanes;
    __m512i t[L];
    for (int l = 0; l < L; ++l) t[l] = _mm512_loadu_si512(limbs + (size_t(g) * L + l) * 32);
    for (uint32_t e = 0; e < p.group_padded; e += kPair) {
      // A lone last block reads only its own 16 bytes; its partner lanes see code 0 and a = 0.
      const __mmask32 bytes = e + kPair <= p.group_padded ? 0xffffffffu : 0xffffu;
      const __m512i w = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(bytes, src + e / 2));
      const __m512i ilo = _mm512_and_si512(w, low4), ihi = _mm512_srli_epi16(w, 4);
      const int16_t* pl = alo + a0 + e;
      const int16_t* ph = ahi + a0 + e;
      const __m512i l0 = _mm512_loadu_si512(pl), l1 = _mm512_loadu_si512(pl + 32);
      const __m512i h0 = _mm512_loadu_si512(ph), h1 = _mm512_loadu_si512(ph + 32);
      for (int l = 0; l < L; ++l) {
        const __m512i d0 = _mm512_permutexvar_epi16(ilo, t[l]);
        const __m512i d1 = _mm512_permutexvar_epi16(ihi, t[l]);
        sums.add(l, d0, d1, l0, l1, h0, h1);
      }
      sums.end_step();
    }
  }
  return sums.total(row_activation_sum(p, act, m));
}

// Dense layers (sop b8/b16): several groups share a step's 32 index lanes,
// so each lane looks up its own group's table. A sop group's table is its
// scale code's (codebook times scale): the limbs of every scale code are made
// once per call, and a step's tables are built in registers from them, two
// 16-word tables per register: b16, per half (low / high nibbles) [group of
// lanes 0-15 | group of lanes 16-31] and vpermw with index code + 16 * (lane
// >= 16); b8, four groups of 8 lanes in two registers and vpermt2w with index
// code + 16 * (lane / 8). Activations are in lane order over the whole row.
template <int L, bool B8>
struct DenseRow {
  static constexpr uint32_t kGroups = B8 ? 8 : 4;  // groups per step
  const int16_t* limbs;                            // [scale code][L][16]
  const int32_t* at;  // per group of the row: offset of its limbs in limbs (0 past the row's end)

  // Limb l of the groups at a and b, as one 32-word table.
  LUTC_AVX512 __m512i two(int32_t a, int32_t b, int l) const {
    return _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(limbs + a + 16 * l))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(limbs + b + 16 * l)), 1);
  }
  // Limb l of step s's weights at the low (d0) and high (d1) nibble lanes.
  LUTC_AVX512 void look(size_t s, int l, __m512i ilo, __m512i ihi, __m512i* d0, __m512i* d1) const {
    const int32_t* o = at + s * kGroups;
    if constexpr (B8) {
      // Lanes 0-15 are block 0's elements 0-15 (groups 0, 1), 16-31 block 1's (groups 4, 5).
      *d0 = _mm512_permutex2var_epi16(two(o[0], o[1], l), ilo, two(o[4], o[5], l));
      *d1 = _mm512_permutex2var_epi16(two(o[2], o[3], l), ihi, two(o[6], o[7], l));
    } else {
      *d0 = _mm512_permutexvar_epi16(ilo, two(o[0], o[2], l));
      *d1 = _mm512_permutexvar_epi16(ihi, two(o[1], o[3], l));
    }
  }
};

template <int L, bool B8>
LUTC_AVX512 __int128 row_sum_dense(const PackedLayer& p, const IntActivations& act, uint32_t m, uint32_t r,
                                   const DenseRow<L, B8>& tables) {
  const __m512i low4 = _mm512_set1_epi16(15);
  // Table offset of each index lane: 16 per group of lanes (8 lanes for b8, 16 for b16).
  alignas(64) int16_t offs[32];
  for (int i = 0; i < 32; ++i) offs[i] = int16_t(16 * (i / (B8 ? 8 : 16)));
  const __m512i off = _mm512_load_si512(offs);
  LimbSums<L> sums;
  const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
  const int16_t* alo = act.lo.data() + m * act.lane_stride;
  const int16_t* ahi = act.hi.data() + m * act.lane_stride;
  for (size_t e = 0; e < act.lane_stride; e += kPair) {
    // A lone last block reads 16 bytes past the row (its partner lanes have a = 0).
    const __m512i w = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + e / 2)));
    const __m512i ilo = _mm512_ternarylogic_epi32(w, low4, off, 0xea);  // (w & 15) | off
    const __m512i ihi = _mm512_or_si512(_mm512_srli_epi16(w, 4), off);
    const __m512i l0 = _mm512_loadu_si512(alo + e), l1 = _mm512_loadu_si512(alo + e + 32);
    const __m512i h0 = _mm512_loadu_si512(ahi + e), h1 = _mm512_loadu_si512(ahi + e + 32);
    for (int l = 0; l < L; ++l) {
      __m512i d0, d1;
      tables.look(e / kPair, l, ilo, ihi, &d0, &d1);
      sums.add(l, d0, d1, l0, l1, h0, h1);
    }
    sums.end_step();
  }
  return sums.total(row_activation_sum(p, act, m));
}

template <int L, bool B8>
LUTC_AVX512 void rows_dense(const PackedLayer& p, const IntActivations& act, uint32_t batch, uint32_t r0, uint32_t r1,
                            float* y) {
  const double unit = std::ldexp(1.0, -p.weight_exp);
  // Groups past the row's end (in its last step) take scale code 0's limbs: their lanes have a = 0.
  std::vector<int32_t> at(act.lane_stride / kPair * DenseRow<L, B8>::kGroups);
  const DenseRow<L, B8> tables{act.code_limbs.data(), at.data()};
  std::vector<__int128> acc(batch);
  for (uint32_t r = r0; r < r1; ++r) {
    const size_t gi = size_t(r) * p.groups_per_row;
    for (uint32_t g = 0; g < p.groups_per_row; ++g) at[g] = int32_t(sop_code(p, gi + g)) * L * 16;
    for (uint32_t m = 0; m < batch; ++m) acc[m] = row_sum_dense<L, B8>(p, act, m, r, tables);
    add_outlier_corrections(p, act, batch, r, unit, acc.data());
    for (uint32_t m = 0; m < batch; ++m)
      y[size_t(m) * p.rows + r] = scaled_int128_to_float(acc[m], p.weight_exp + act.exp[m]);
  }
}

template <int L>
LUTC_AVX512 void rows(const PackedLayer& p, const IntActivations& act, uint32_t batch, uint32_t r0, uint32_t r1,
                      float* y) {
  if (p.dense()) {
    if (p.group < 16)
      rows_dense<L, true>(p, act, batch, r0, r1, y);
    else
      rows_dense<L, false>(p, act, batch, r0, r1, y);
    return;
  }
  const double unit = std::ldexp(1.0, -p.weight_exp);
  // Plain words, not std::vector<__m512i>: its allocation need not be 64-byte aligned.
  std::vector<int16_t> limbs(size_t(p.groups_per_row) * L * 32);
  std::vector<__int128> acc(batch);
  for (uint32_t r = r0; r < r1; ++r) {
    for (uint32_t g = 0; g < p.groups_per_row; ++g) group_limbs(p, r, g, L, unit, &limbs[size_t(g) * L * 32]);
    for (uint32_t m = 0; m < batch; ++m) acc[m] = row_sum<L>(p, act, m, r, limbs.data());
    add_outlier_corrections(p, act, batch, r, unit, acc.data());
    for (uint32_t m = 0; m < batch; ++m)
      y[size_t(m) * p.rows + r] = scaled_int128_to_float(acc[m], p.weight_exp + act.exp[m]);
  }
}

// Limbs of every scale code's table (a dense sop layer's group tables).
LUTC_AVX512 void code_limbs(const PackedLayer& p, std::vector<int16_t>& out) {
  const int L = limbs_needed(p);
  const double unit = std::ldexp(1.0, -p.weight_exp);
  out.assign(p.sop_scale.size() * L * 16, 0);
  for (size_t c = 0; c < p.sop_scale.size(); ++c) {
    const __m512 t = _mm512_mul_ps(_mm512_loadu_ps(p.shared.data() + size_t(p.sop_book[c]) * 16),
                                   _mm512_set1_ps(p.sop_scale[c]));  // table16's sop product
    table_limbs(t, L, unit, &out[c * L * 16], 16);
  }
}

// Lane of element e (padded coordinates) within its step of 64.
inline size_t lane_of(uint32_t e) {
  const uint32_t pair = e / kPair, w = e % kPair, blk = w / kBlock, j = w % kBlock;
  return size_t(pair) * kPair + (j < 16 ? blk * 16 + j : 32 + blk * 16 + (j - 16));
}

}  // namespace

size_t exact4_lane_of(uint32_t e) { return lane_of(e); }

void exact4_tables(const PackedLayer& p, IntActivations& act) {
  if (p.dense()) code_limbs(p, act.code_limbs);
}

void exact4_rows_avx512(const PackedLayer& p, const IntActivations& act, uint32_t batch, uint32_t r0, uint32_t r1,
                        float* y) {
  switch (limbs_needed(p)) {
    case 1: rows<1>(p, act, batch, r0, r1, y); break;
    case 2: rows<2>(p, act, batch, r0, r1, y); break;
    case 3: rows<3>(p, act, batch, r0, r1, y); break;
    case 4: rows<4>(p, act, batch, r0, r1, y); break;
    default: break;
  }
}

}  // namespace lutc::kernels

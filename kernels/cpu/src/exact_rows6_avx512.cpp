// The AVX-512 exact kernel for 6-bit codes (exact_limbs_avx512.h has the
// limb arithmetic).
#include "exact_limbs_avx512.h"
#include "lutc/model/golden.h"
#include "row_kernels.h"

namespace lutc::kernels {
namespace {

// The row is one little-endian bit stream (element e at bit 6e), walked in
// steps of 32 codes = 24 bytes, with activations in element order. A group's
// table has 64 entries: per limb two registers, and vpermt2w looks a limb up
// for 32 codes at once. Groups of 32 or more (padded layout) own whole steps;
// dense sop b16 / b8 put G = 2 / 4 groups in a step, and each group's lookup
// is blended into its 32/G lanes. Tables are [table][L][64] limbs: per call
// for sop (one per scale code) and xfp.v2a (one per library id), per row for
// xfp.v2 (fp16 codebooks of its own). Sign-symmetric sop codebooks (e2m3)
// halve the tables and the lookups (sop6_symmetric).
constexpr uint32_t kEntries6 = 64;
constexpr uint32_t kStepBytes6 = kBlock * 6 / 8;  // 24

// 32 codes from 24 bytes as 32 16-bit lanes in element order. VBMI (a byte
// permute across the register) is not part of the AVX-512 level, so: vpermq
// gives each 128-bit lane the 16 bytes holding its 8 codes (6 bytes), vpshufb
// puts the byte pair holding code k in word k, vpsrlvw and AND 63 leave it.
struct Codes6 {
  __m512i qwords, pairs, shifts, low6;
  LUTC_AVX512 Codes6() {
    alignas(64) int8_t c[64];
    alignas(64) int16_t sh[32];
    for (int lane = 0; lane < 4; ++lane) {
      const int first = 6 * lane - (lane < 2 ? 0 : 8);  // lane's first code byte within its 16 (qwords 0,1 / 1,2)
      for (int k = 0; k < 8; ++k) {
        // Code j of 4 (3 bytes) sits at bit 6j: byte 0, 0, 1, 2 shifted by 0, 6, 4, 2.
        const int j = k % 4, b = first + 3 * (k / 4) + (j == 0 ? 0 : j - 1);
        c[16 * lane + 2 * k] = int8_t(b);
        // Codes 0 and 3 of 4 lie in one byte: zero the high byte (lane 3's last would read past its 16).
        c[16 * lane + 2 * k + 1] = j == 1 || j == 2 ? int8_t(b + 1) : int8_t(-128);
        sh[8 * lane + k] = int16_t(6 * j % 8);
      }
    }
    qwords = _mm512_setr_epi64(0, 1, 0, 1, 1, 2, 1, 2);
    pairs = _mm512_load_si512(c);
    shifts = _mm512_load_si512(sh);
    low6 = _mm512_set1_epi16(63);
  }
  // Reads 32 bytes from src (the indices allocation has spare bytes past its end).
  LUTC_AVX512 __m512i operator()(const uint8_t* src) const {
    const __m512i b = _mm512_permutexvar_epi64(
        qwords, _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src))));
    return _mm512_and_si512(_mm512_srlv_epi16(_mm512_shuffle_epi8(b, pairs), shifts), low6);
  }
};

// 16 of the 64 fp32 entries of a group's table (quarter i), with the golden
// decode's operations (group_table's).
LUTC_AVX512 inline __m512 table64_quarter(const PackedLayer& p, uint32_t r, uint32_t g, unsigned i) {
  const size_t gi = size_t(r) * p.groups_per_row + g;
  switch (p.scheme) {
    case Scheme::kXfpV2:
      return _mm512_cvtph_ps(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.group_half.data() + gi * kEntries6 + 16 * i)));
    case Scheme::kXfpV2a: return _mm512_loadu_ps(p.shared.data() + size_t(p.group_ids[gi]) * kEntries6 + 16 * i);
    case Scheme::kSop: {
      const unsigned c = sop_code(p, gi);
      return _mm512_mul_ps(_mm512_loadu_ps(p.shared.data() + size_t(p.sop_book[c]) * kEntries6 + 16 * i),
                           _mm512_set1_ps(p.sop_scale[c]));
    }
    default: return _mm512_setzero_ps();
  }
}

// Limbs of group g's 64-entry table: limb l into out[l * 64 + 0..63].
LUTC_AVX512 void group_limbs6(const PackedLayer& p, uint32_t r, uint32_t g, int L, double unit, int16_t* out) {
  for (unsigned i = 0; i < kEntries6 / 16; ++i) table_limbs(table64_quarter(p, r, g, i), L, unit, out + 16 * i, 64);
}

// Tables shared across rows: sop, one per scale code; xfp.v2a, one per library id.
LUTC_AVX512 void shared_limbs6(const PackedLayer& p, std::vector<int16_t>& out) {
  const int L = limbs_needed(p);
  const double unit = std::ldexp(1.0, -p.weight_exp);
  const bool sop = p.scheme == Scheme::kSop;
  const size_t n = sop ? p.sop_scale.size() : p.shared.size() / kEntries6;
  out.assign(n * L * kEntries6, 0);
  for (size_t c = 0; c < n; ++c)
    for (unsigned i = 0; i < kEntries6 / 16; ++i) {
      const float* book = p.shared.data() + (sop ? size_t(p.sop_book[c]) : c) * kEntries6 + 16 * i;
      __m512 t = _mm512_loadu_ps(book);
      if (sop) t = _mm512_mul_ps(t, _mm512_set1_ps(p.sop_scale[c]));  // table64_quarter's sop product
      table_limbs(t, L, unit, &out[c * L * kEntries6 + 16 * i], 64);
    }
}

// Sign-symmetric sop codebooks (e2m3: code c + 32 is -(code c), every book):
// then w_int(c + 32) = -w_int(c) exactly (fp32 products and trunc are odd),
// so a group's table is its 32 entries of codes 0..31, the code's sign bit
// negates the lane's activation instead, and a step of G groups needs half
// the lookups. Limbs are signed (balanced 15-bit digits), so no offset.
bool sop6_symmetric(const PackedLayer& p) {
  if (p.scheme != Scheme::kSop || p.bits != 6) return false;
  for (size_t b = 0; b + kEntries6 <= p.shared.size(); b += kEntries6)
    for (unsigned c = 0; c < kEntries6 / 2; ++c)
      if (!(p.shared[b + c + kEntries6 / 2] == -p.shared[b + c])) return false;
  return true;
}

// [scale code][L][32] signed limbs of codes 0..31: w = sum_l d_l 2^(15l), d_l in
// [-2^14, 2^14) but the last, |d_(L-1)| <= 2^14 since |w| < 2^(15L-1) (limbs_needed).
void sym_limbs6(const PackedLayer& p, std::vector<int16_t>& out) {
  const int L = limbs_needed(p);
  const double unit = std::ldexp(1.0, -p.weight_exp);
  constexpr unsigned kHalf = kEntries6 / 2;
  out.assign(p.sop_scale.size() * L * kHalf, 0);
  for (size_t c = 0; c < p.sop_scale.size(); ++c) {
    const float* book = p.shared.data() + size_t(p.sop_book[c]) * kEntries6;
    for (unsigned e = 0; e < kHalf; ++e) {
      int64_t w = weight_int(book[e] * p.sop_scale[c], unit);  // group_table's product
      for (int l = 0; l < L; ++l) {
        const int64_t d = l == L - 1 ? w : ((w + (1 << 14)) & 0x7fff) - (1 << 14);
        out[(c * L + l) * kHalf + e] = int16_t(d);
        w = (w - d) >> 15;
      }
    }
  }
}

// Limb l of a step's weights from symmetric tables (32 words each): G = 1 vpermw
// (5-bit index); G = 2 one vpermt2w over both groups' tables, idx carrying
// 32 * (lane group); G = 4 two, blended.
template <int G>
LUTC_AVX512 inline __m512i lookup6_sym(const int16_t* limbs, const int32_t* at, int l, __m512i idx) {
  const auto t = [&](int j) { return limbs + at[j] + l * int(kEntries6 / 2); };
  if constexpr (G == 1) {
    return _mm512_permutexvar_epi16(idx, _mm512_loadu_si512(t(0)));
  } else if constexpr (G == 2) {
    return _mm512_permutex2var_epi16(_mm512_loadu_si512(t(0)), idx, _mm512_loadu_si512(t(1)));
  } else {
    const __m512i d0 = _mm512_permutex2var_epi16(_mm512_loadu_si512(t(0)), idx, _mm512_loadu_si512(t(1)));
    const __m512i d1 = _mm512_permutex2var_epi16(_mm512_loadu_si512(t(2)), idx, _mm512_loadu_si512(t(3)));
    return _mm512_mask_blend_epi16(0xffff0000u, d0, d1);
  }
}

LUTC_AVX512 inline __m512i lookup64(const int16_t* t, __m512i idx) {
  return _mm512_permutex2var_epi16(_mm512_loadu_si512(t), idx, _mm512_loadu_si512(t + 32));
}

// Limb l of a step's weights: G groups, lanes 32/G each, their tables at
// limbs + at[0..G-1].
template <int G>
LUTC_AVX512 inline __m512i lookup6(const int16_t* limbs, const int32_t* at, int l, __m512i idx) {
  __m512i d = lookup64(limbs + at[0] + l * kEntries6, idx);
  for (int j = 1; j < G; ++j)
    d = _mm512_mask_blend_epi16(__mmask32(((uint64_t(1) << (32 / G)) - 1) << (j * 32 / G)), d,
                                lookup64(limbs + at[j] + l * kEntries6, idx));
  return d;
}

template <int L, int G, bool Sym>
LUTC_AVX512 __int128 row_sum6(const IntActivations& act, uint32_t m, int64_t asum, const uint8_t* row,
                              const int16_t* limbs, const int32_t* at, const Codes6& codes) {
  // Sym: 32 * (lane group & 1) picks a lane's table register (vpermt2w index bit 5).
  alignas(64) int16_t offs[32];
  for (int i = 0; i < 32; ++i) offs[i] = int16_t(32 * ((i / (32 / G)) & 1));
  const __m512i off = _mm512_load_si512(offs), low5 = _mm512_set1_epi16(31), sign = _mm512_set1_epi16(32);
  LimbSums<L> sums;
  const int16_t* alo = act.lo.data() + m * act.lane_stride;
  const int16_t* ahi = act.hi.data() + m * act.lane_stride;
  const size_t steps = act.lane_stride / kBlock;
  for (size_t s = 0; s < steps; ++s) {
    __m512i idx = codes(row + s * kStepBytes6);
    __m512i lo = _mm512_loadu_si512(alo + s * kBlock), hi = _mm512_loadu_si512(ahi + s * kBlock);
    if constexpr (Sym) {
      // Codes 32..63 weigh -(code - 32): negate a instead (lo in [-255, 255], hi in [-127, 128]).
      const __mmask32 neg = _mm512_test_epi16_mask(idx, sign);
      lo = _mm512_mask_sub_epi16(lo, neg, _mm512_setzero_si512(), lo);
      hi = _mm512_mask_sub_epi16(hi, neg, _mm512_setzero_si512(), hi);
      if constexpr (G > 1) idx = _mm512_ternarylogic_epi32(idx, low5, off, 0xea);  // (idx & 31) | off
    }
    for (int l = 0; l < L; ++l)
      sums.add(l, Sym ? lookup6_sym<G>(limbs, at + s * G, l, idx) : lookup6<G>(limbs, at + s * G, l, idx), lo, hi);
    sums.end_step();
  }
  return sums.total(Sym ? 0 : asum);  // signed limbs carry no offset
}

// Offset of each group's table in the step table (see rows6): group g's id times the
// limbs per table. Padded layout: a group owns group_steps steps; dense (0): group g is
// lane group g % G of step g / G.
template <typename Id>
inline void set_offsets(const Id* ids, uint32_t groups, int32_t stride, uint32_t group_steps, int32_t* at) {
  if (group_steps == 0) {
    for (uint32_t g = 0; g < groups; ++g) at[g] = int32_t(ids[g]) * stride;
    return;
  }
  for (uint32_t g = 0; g < groups; ++g)
    std::fill_n(at + size_t(g) * group_steps, group_steps, int32_t(ids[g]) * stride);
}

template <int L, int G, bool Sym>
LUTC_AVX512 void rows6(const PackedLayer& p, const IntActivations& act, uint32_t batch, uint32_t r0, uint32_t r1,
                       float* y) {
  const double unit = std::ldexp(1.0, -p.weight_exp);
  const size_t steps = act.lane_stride / kBlock;
  // Steps a group owns (padded layout); dense: group g is lane group g % G of step g / G.
  const uint32_t group_steps = p.dense() ? 0 : p.group_padded / kBlock;
  constexpr int32_t kStride = L * (Sym ? kEntries6 / 2 : kEntries6);  // words per table
  // Table offset of each (step, lane group); past the row's last group 0, a valid table (those lanes have a = 0).
  std::vector<int32_t> at(steps * G, 0);
  std::vector<int16_t> own;    // xfp.v2: the row's own group tables
  std::vector<uint32_t> iota;  // xfp.v2: group g's table is the row's g-th
  if (p.scheme == Scheme::kXfpV2) {
    own.resize(size_t(p.groups_per_row) * kStride);
    iota.resize(p.groups_per_row);
    for (uint32_t g = 0; g < p.groups_per_row; ++g) iota[g] = g;
  }
  const int16_t* limbs = own.empty() ? act.code_limbs.data() : own.data();
  // The same for every row: sum of a over the row, per vector.
  std::vector<int64_t> asum(batch);
  for (uint32_t m = 0; m < batch; ++m) asum[m] = row_activation_sum(p, act, m);
  const Codes6 codes;
  std::vector<__int128> acc(batch);
  for (uint32_t r = r0; r < r1; ++r) {
    const size_t gi = size_t(r) * p.groups_per_row;
    if (p.scheme == Scheme::kXfpV2) {
      for (uint32_t g = 0; g < p.groups_per_row; ++g) group_limbs6(p, r, g, L, unit, own.data() + g * kStride);
      if (r == r0) set_offsets(iota.data(), p.groups_per_row, kStride, group_steps, at.data());
    } else if (p.scheme == Scheme::kSop) {
      if (p.sop_code8.empty())
        set_offsets(p.group_half.data() + gi, p.groups_per_row, kStride, group_steps, at.data());
      else
        set_offsets(p.sop_code8.data() + gi, p.groups_per_row, kStride, group_steps, at.data());
    } else {
      set_offsets(p.group_ids.data() + gi, p.groups_per_row, kStride, group_steps, at.data());
    }
    const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
    for (uint32_t m = 0; m < batch; ++m) acc[m] = row_sum6<L, G, Sym>(act, m, asum[m], row, limbs, at.data(), codes);
    add_outlier_corrections(p, act, batch, r, unit, acc.data());
    for (uint32_t m = 0; m < batch; ++m)
      y[size_t(m) * p.rows + r] = scaled_int128_to_float(acc[m], p.weight_exp + act.exp[m]);
  }
}

template <int L>
LUTC_AVX512 void rows6_by_layout(const PackedLayer& p, const IntActivations& act, uint32_t batch, uint32_t r0,
                                 uint32_t r1, float* y) {
  if (sop6_symmetric(p)) {
    if (!p.dense())
      rows6<L, 1, true>(p, act, batch, r0, r1, y);
    else if (p.group == 16)
      rows6<L, 2, true>(p, act, batch, r0, r1, y);
    else
      rows6<L, 4, true>(p, act, batch, r0, r1, y);
  } else if (!p.dense()) {
    rows6<L, 1, false>(p, act, batch, r0, r1, y);
  } else if (p.group == 16) {
    rows6<L, 2, false>(p, act, batch, r0, r1, y);
  } else {
    rows6<L, 4, false>(p, act, batch, r0, r1, y);
  }
}

}  // namespace

void exact6_tables(const PackedLayer& p, IntActivations& act) {
  if (sop6_symmetric(p))
    sym_limbs6(p, act.code_limbs);
  else if (p.scheme != Scheme::kXfpV2)  // xfp.v2 codebooks are per group: made per row
    shared_limbs6(p, act.code_limbs);
}

void exact6_rows_avx512(const PackedLayer& p, const IntActivations& act, uint32_t batch, uint32_t r0, uint32_t r1,
                        float* y) {
  switch (limbs_needed(p)) {
    case 1: rows6_by_layout<1>(p, act, batch, r0, r1, y); break;
    case 2: rows6_by_layout<2>(p, act, batch, r0, r1, y); break;
    case 3: rows6_by_layout<3>(p, act, batch, r0, r1, y); break;
    case 4: rows6_by_layout<4>(p, act, batch, r0, r1, y); break;
    default: break;
  }
}

}  // namespace lutc::kernels

// Per-scheme LUT contents (docs/hif.md "What a LUT holds") and the HIF-rounded
// weights. The products here are exact in fp32: a HIF mantissa has at most 13
// bits and an fp16 scale 11, so the compiler's reference weights carry no
// rounding the executor's integer datapath does not also see. (Nor below
// 2^-149: HIF rounding either keeps an entry exact or moves it to a coarser
// grid, so a word's value never has a lower lsb than its entry; sop entries
// have lsb >= 2^-124 and UE scales >= 2^-10, so products stay >= 2^-134.)
#include "lutc/compiler/layer_luts.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "lutc/compiler/arch_config.h"
#include "lutc/model/bitpack.h"
#include "lutc/model/element_formats.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/golden.h"
#include "lutc/model/sop_scale.h"

namespace lutc {

LayerLuts layer_lut_values(const QuantizedLayer& l) {
  LayerLuts t;
  t.entries = 1u << l.bits;
  t.group = l.group ? l.group : l.cols;
  switch (l.scheme) {
    case Scheme::kXfpV2:
      t.select = BookSelect::kPerGroup;
      t.values.resize(l.codebooks.size());
      for (size_t i = 0; i < l.codebooks.size(); ++i) t.values[i] = half_to_float(l.codebooks[i]);
      break;
    case Scheme::kXfpV2a:
      t.select = BookSelect::kById;
      t.has_id = true;
      t.values.resize(l.codebooks.size());
      for (size_t i = 0; i < l.codebooks.size(); ++i) t.values[i] = half_to_float(l.codebooks[i]);
      break;
    case Scheme::kInt4G128:
      t.select = BookSelect::kById;
      t.has_id = t.has_scale = true;
      t.values.resize(16 * 16);
      for (unsigned z = 0; z < 16; ++z)
        for (unsigned q = 0; q < 16; ++q) t.values[z * 16 + q] = float(int(q) - int(z));
      break;
    case Scheme::kNf4B64:
      t.select = BookSelect::kFixed;
      t.has_scale = true;
      t.values.resize(16);
      for (unsigned i = 0; i < 16; ++i) t.values[i] = half_to_float(l.codebooks.at(i));
      break;
    case Scheme::kFp8E4M3:
      t.select = BookSelect::kFixed;
      t.values.resize(256);
      for (unsigned i = 0; i < 256; ++i)
        t.values[i] = e4m3_is_nan(uint8_t(i)) ? 0.0f : std::ldexp(e4m3_to_float(uint8_t(i)), l.layer_scale_exp);
      break;
    case Scheme::kSop:
      // 2^layer_scale_exp lives in the books, so the block scale is the bare
      // UE4Mx value (exact in fp16). Entries stay exact in fp32: an fp16 value
      // (lsb >= 2^-24) times 2^e, e in [-100, 100].
      t.select = l.sop_paired ? BookSelect::kById : BookSelect::kFixed;
      t.has_id = l.sop_paired;
      t.has_scale = true;
      t.values.resize(l.codebooks.size());
      for (size_t i = 0; i < l.codebooks.size(); ++i)
        t.values[i] = std::ldexp(half_to_float(l.codebooks[i]), l.layer_scale_exp);
      break;
  }
  return t;
}

LayerLuts lower_layer_luts(const QuantizedLayer& l, const HifFormat& hif) {
  LayerLuts t = layer_lut_values(l);
  const size_t nbooks = t.values.size() / t.entries;
  t.books.resize(nbooks);
  for (size_t b = 0; b < nbooks; ++b) t.books[b] = encode_hif_book(t.values.data() + b * t.entries, t.entries, hif);
  return t;
}

uint32_t group_book(const QuantizedLayer& l, const LayerLuts& t, uint32_t row, uint32_t g) {
  const size_t gi = size_t(row) * l.groups_per_row() + g;
  switch (l.scheme) {
    case Scheme::kXfpV2: return uint32_t(gi);
    case Scheme::kXfpV2a: return l.group_ids[gi];
    case Scheme::kInt4G128: return uint32_t(half_to_float(l.group_zeros[gi]));
    case Scheme::kSop:
      return unpack_sop_scale(l.block_scales[gi], l.sop_scale_mant_bits, l.sop_paired, l.sop_scale_signed).sel;
    default: (void)t; return 0;
  }
}

uint16_t group_scale(const QuantizedLayer& l, uint32_t row, uint32_t g) {
  const size_t gi = size_t(row) * l.groups_per_row() + g;
  if (l.scheme == Scheme::kInt4G128 || l.scheme == Scheme::kNf4B64) return l.group_scales[gi];
  if (l.scheme == Scheme::kSop) {
    const SopScaleCode c =
        unpack_sop_scale(l.block_scales[gi], l.sop_scale_mant_bits, l.sop_paired, l.sop_scale_signed);
    // Exact: a UE4Mx value is 0 or has <= 5 significant bits in [2^-10, 496],
    // inside fp16's normal range (tested for every code).
    const uint16_t h = float_to_half(ue_value(c.magnitude, l.sop_scale_mant_bits));
    return c.sign ? uint16_t(h | 0x8000) : h;  // the sign negates the block's book, as in the golden decode
  }
  return 0x3c00;  // 1.0
}

void hif_decode_rows(const QuantizedLayer& l, const LayerLuts& t, const HifFormat& hif, uint32_t r0, uint32_t n,
                     float* out, bool with_outliers) {
  const uint32_t K = l.cols;
  const uint32_t gpr = std::max(1u, l.groups_per_row());
  // Decoded book values, once per book: the words are shared by many groups.
  std::vector<float> decoded(t.books.size() * t.entries);
  for (size_t b = 0; b < t.books.size(); ++b)
    for (uint32_t i = 0; i < t.entries; ++i)
      decoded[b * t.entries + i] = float(hif_value(hif, t.books[b].words[i], t.books[b].base));
  std::vector<uint8_t> codes(K);
  const OutlierCsr& o = l.outliers;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t r = r0 + i;
    float* row = out + size_t(i) * K;
    unpack_indices(l.indices.data(), uint64_t(r) * K, K, l.bits, codes.data());
    for (uint32_t g = 0; g < gpr; ++g) {
      const float* book = decoded.data() + size_t(group_book(l, t, r, g)) * t.entries;
      const float s = half_to_float(group_scale(l, r, g));
      const uint32_t k1 = std::min<uint64_t>(uint64_t(g + 1) * t.group, K);
      for (uint32_t k = g * t.group; k < k1; ++k) out[size_t(i) * K + k] = book[codes[k]] * s;
    }
    if (o.row_ptr.empty() || !with_outliers) continue;
    for (uint32_t j = o.row_ptr[r]; j < o.row_ptr[r + 1]; ++j) row[o.col[j]] = row[o.col[j]] + half_to_float(o.val[j]);
  }
}

std::vector<float> hif_weights(const QuantizedLayer& l, const HifFormat& hif) {
  validate(l);
  const LayerLuts t = lower_layer_luts(l, hif);
  std::vector<float> w(size_t(l.elements()));
  hif_decode_rows(l, t, hif, 0, l.rows, w.data());
  return w;
}

HifErrorReport measure_hif_error(const QuantizedLayer& l, const LayerLuts& t, const HifFormat& hif) {
  HifErrorReport rep;
  for (size_t b = 0; b < t.books.size(); ++b)
    for (uint32_t i = 0; i < t.entries; ++i)
      rep.changed_entries +=
          hif_value(hif, t.books[b].words[i], t.books[b].base) != double(t.values[b * t.entries + i]);
  rep.total_entries = uint64_t(t.books.size()) * t.entries;
  const uint32_t chunk =
      std::max<uint32_t>(1, uint32_t(std::min<uint64_t>(l.rows, (uint64_t(1) << 20) / std::max(1u, l.cols))));
  std::vector<float> ref(size_t(chunk) * l.cols), got(size_t(chunk) * l.cols);
  double sig = 0, noise = 0;
  for (uint32_t r = 0; r < l.rows; r += chunk) {
    const uint32_t n = std::min(chunk, l.rows - r);
    golden_decode_rows(l, r, n, ref.data());
    hif_decode_rows(l, t, hif, r, n, got.data());
    for (size_t i = 0; i < size_t(n) * l.cols; ++i) {
      const double d = double(got[i]) - double(ref[i]);
      sig += double(ref[i]) * ref[i];
      noise += d * d;
      rep.max_abs_error = std::max(rep.max_abs_error, std::fabs(d));
    }
  }
  rep.sqnr_db = noise == 0 ? std::numeric_limits<double>::infinity()
                           : (sig == 0 ? -std::numeric_limits<double>::infinity() : 10 * std::log10(sig / noise));
  return rep;
}

void arch_golden_gemv(const QuantizedLayer& layer, const ArchConfig& arch, const float* x, uint32_t batch, float* y) {
  GemvConfig cfg;
  cfg.act_bits = arch.act_bits;
  const std::vector<float> w = hif_weights(layer, HifFormat{arch.hif_mant_bits, arch.hif_shift_bits});
  golden_gemv_weights(w.data(), layer.rows, layer.cols, x, batch, cfg, y);
}

}  // namespace lutc

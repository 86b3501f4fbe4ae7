// The golden decode, docs/numerics.md "Golden decode": every step is one
// named fp32 operation, in the order the doc fixes, so other implementations
// can reproduce it bit for bit.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "lutc/model/bitpack.h"
#include "lutc/model/element_formats.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/golden.h"
#include "lutc/model/sop_scale.h"

namespace lutc {
namespace {

// Cheap structural checks so that decoding a few rows at a time never reads
// out of bounds; validate() checks the rest. Per-group values are checked
// for the rows being decoded only: a report decodes a layer in many small row
// ranges, and checking every group each time made that quadratic.
void check_decodable(const QuantizedLayer& l, uint32_t r0, uint32_t n) {
  auto fail = [&](const std::string& what) { fail_input("", l.name, -1, what); };
  if (uint64_t(r0) + n > l.rows)
    fail("rows [" + std::to_string(r0) + ", " + std::to_string(uint64_t(r0) + n) + ") outside the layer's " +
         std::to_string(l.rows) + " rows");
  if (!valid_index_bits(l.bits)) fail("invalid index width");
  const SchemeTraits* traits = find_scheme_traits(l.scheme);
  if (!traits) fail("unknown scheme code " + std::to_string(int(l.scheme)));
  if (traits->fixed_bits && l.bits != traits->fixed_bits)
    fail(std::string(traits->name) + ": bits must be " + std::to_string(traits->fixed_bits));
  if (l.indices.size() != packed_bytes(l.elements(), l.bits)) fail("index stream size mismatch");
  const uint64_t groups = uint64_t(l.rows) * l.groups_per_row();
  const uint64_t g0 = uint64_t(r0) * l.groups_per_row(), g1 = uint64_t(r0 + n) * l.groups_per_row();
  const uint64_t entries = uint64_t(1) << l.bits;
  bool ok = true;
  switch (l.scheme) {
    case Scheme::kXfpV2: ok = l.group > 0 && l.codebooks.size() == groups * entries; break;
    case Scheme::kXfpV2a:
      ok = l.group > 0 && l.codebooks.size() == kV2aLibrarySize * entries && l.group_ids.size() == groups;
      for (uint64_t i = g0; ok && i < g1; ++i) ok = l.group_ids[i] < kV2aLibrarySize;
      break;
    case Scheme::kInt4G128:
      ok = l.group > 0 && l.group_scales.size() == groups && l.group_zeros.size() == groups;
      break;
    case Scheme::kNf4B64: ok = l.group > 0 && l.codebooks.size() == 16 && l.group_scales.size() == groups; break;
    case Scheme::kFp8E4M3: break;
    case Scheme::kSop:
      ok = l.group > 0 && sop_scale_mant_ok(l.sop_scale_mant_bits) &&
           l.codebooks.size() == (l.sop_paired ? 2 : 1) * entries && l.block_scales.size() == groups;
      for (uint64_t i = g0; ok && i < g1; ++i) ok = (l.block_scales[i] >> l.sop_scale_code_bits()) == 0;
      break;
    default: ok = false;
  }
  if (!ok) fail(std::string(scheme_name(l.scheme)) + ": metadata sizes do not match the shape");
  const OutlierCsr& o = l.outliers;
  if (!o.row_ptr.empty()) {
    if (o.row_ptr.size() != uint64_t(l.rows) + 1 || o.col.size() != o.val.size() || o.row_ptr[l.rows] != o.col.size())
      fail("outlier CSR sizes do not match");
    for (uint32_t r = r0; r < r0 + n; ++r) {
      if (o.row_ptr[r] > o.row_ptr[r + 1]) fail("outlier row_ptr decreases");
      for (uint32_t i = o.row_ptr[r]; i < o.row_ptr[r + 1]; ++i)
        if (o.col[i] >= l.cols) fail("outlier column out of range");
    }
  }
}

// Dense decode of one row into out[0..cols).
void decode_row_dense(const QuantizedLayer& l, uint32_t r, std::vector<uint8_t>& codes, std::vector<float>& table,
                      float* out) {
  const uint32_t K = l.cols;
  unpack_indices(l.indices.data(), uint64_t(r) * K, K, l.bits, codes.data());
  const uint32_t entries = 1u << l.bits;
  const uint32_t gpr = l.groups_per_row();
  switch (l.scheme) {
    case Scheme::kXfpV2:
    case Scheme::kXfpV2a:
      for (uint32_t g = 0; g < gpr; ++g) {
        const size_t gi = size_t(r) * gpr + g;
        const size_t book = l.scheme == Scheme::kXfpV2 ? gi : size_t(l.group_ids[gi]);
        const uint16_t* cb = l.codebooks.data() + book * entries;
        // The same conversion per entry, once per group instead of per element.
        for (uint32_t e = 0; e < entries; ++e) table[e] = half_to_float(cb[e]);
        const uint32_t k1 = std::min<uint64_t>(uint64_t(g + 1) * l.group, K);
        for (uint32_t k = g * l.group; k < k1; ++k) out[k] = table[codes[k]];
      }
      break;
    case Scheme::kInt4G128:
      for (uint32_t g = 0; g < gpr; ++g) {
        const size_t gi = size_t(r) * gpr + g;
        const float s = half_to_float(l.group_scales[gi]);
        const float z = half_to_float(l.group_zeros[gi]);
        const uint32_t k1 = std::min<uint64_t>(uint64_t(g + 1) * l.group, K);
        for (uint32_t k = g * l.group; k < k1; ++k) {
          const float d = float(codes[k]) - z;  // exact: integers in -15..15
          out[k] = s * d;                       // exact: 11-bit x 5-bit significands
        }
      }
      break;
    case Scheme::kNf4B64:
      for (unsigned i = 0; i < 16; ++i) table[i] = half_to_float(l.codebooks[i]);
      for (uint32_t g = 0; g < gpr; ++g) {
        const float s = half_to_float(l.group_scales[size_t(r) * gpr + g]);
        const uint32_t k1 = std::min<uint64_t>(uint64_t(g + 1) * l.group, K);
        for (uint32_t k = g * l.group; k < k1; ++k) out[k] = table[codes[k]] * s;
      }
      break;
    case Scheme::kSop: {
      const size_t book_entries = l.codebooks.size();  // 1 or 2 codebooks of `entries`
      if (table.size() < book_entries) table.resize(book_entries);
      for (size_t i = 0; i < book_entries; ++i) table[i] = half_to_float(l.codebooks[i]);
      for (uint32_t g = 0; g < gpr; ++g) {
        const SopScaleCode sc = unpack_sop_scale(l.block_scales[size_t(r) * gpr + g], l.sop_scale_mant_bits,
                                                 l.sop_paired, l.sop_scale_signed);
        // Exact: a <= 5-bit significand times a power of two inside the fp32 normal range.
        float sv = std::ldexp(ue_value(sc.magnitude, l.sop_scale_mant_bits), l.layer_scale_exp);
        if (sc.sign) sv = -sv;
        const float* cb = table.data() + size_t(sc.sel) * entries;
        const uint32_t k1 = std::min<uint64_t>(uint64_t(g + 1) * l.group, K);
        // Exact unless below 2^-126: 11-bit x 5-bit significands.
        for (uint32_t k = g * l.group; k < k1; ++k) out[k] = cb[codes[k]] * sv;
      }
      break;
    }
    case Scheme::kFp8E4M3:
      for (unsigned i = 0; i < 256; ++i) table[i] = std::ldexp(e4m3_to_float(uint8_t(i)), l.layer_scale_exp);
      for (uint32_t k = 0; k < K; ++k) out[k] = table[codes[k]];
      break;
    default: break;
  }
}

}  // namespace

void golden_decode_rows(const QuantizedLayer& l, uint32_t r0, uint32_t n, float* out) {
  check_decodable(l, r0, n);
  std::vector<uint8_t> codes(l.cols);
  std::vector<float> table(256);
  const OutlierCsr& o = l.outliers;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t r = r0 + i;
    float* row = out + size_t(i) * l.cols;
    decode_row_dense(l, r, codes, table, row);
    if (o.row_ptr.empty()) continue;
    for (uint32_t j = o.row_ptr[r]; j < o.row_ptr[r + 1]; ++j)
      row[o.col[j]] = row[o.col[j]] + half_to_float(o.val[j]);  // the one rounding
  }
}

void golden_decode(const QuantizedLayer& l, float* out) { golden_decode_rows(l, 0, l.rows, out); }

}  // namespace lutc

#include "xfp/xfp_encode.h"

#include <algorithm>
#include <numeric>

#include "lutc/model/bitpack.h"
#include "lutc/model/fp16.h"
#include "xfp/xfp_codebook.h"

namespace lutc::xfp {

void encode_row(const SortedMatrix& m, const RowRuns& rr, uint32_t r, const float* wrow, const Trims& t,
                const uint16_t* const* group_cb, unsigned k, uint8_t* codes_row, RowOutliers* out) {
  double e[kMaxCenters];
  out->col.clear();
  out->val.clear();
  if (m.perm.empty()) {
    // Values-only storage: one whole-row group and no outliers (the trims
    // cover the run), so the codes come straight from the row.
    codebook_values(group_cb[0], k, e);
    assign_codes_by_value(wrow, m.cols, e, k, codes_row);
    return;
  }
  for (uint32_t g = 0; g < m.groups; ++g) {
    codebook_values(group_cb[g], k, e);
    const uint32_t* perm = m.group_perm(r, g);
    assign_codes(rr.runs[g], perm, e, k, codes_row);
    for (uint32_t i = 0; i < t.lo[g]; ++i) out->col.push_back(perm[i]);
    for (uint32_t i = t.hi[g]; i < rr.runs[g].n; ++i) out->col.push_back(perm[i]);
  }
  std::sort(out->col.begin(), out->col.end());
  out->val.resize(out->col.size());
  for (size_t i = 0; i < out->col.size(); ++i) {
    const uint32_t c = out->col[i];
    const float dense = half_to_float(group_cb[c / m.group][codes_row[c]]);
    const float res = std::clamp(wrow[c] - dense, -kHalfMax, kHalfMax);
    out->val[i] = float_to_half(res);
  }
}

void decode_row(const uint8_t* codes_row, uint32_t cols, uint32_t group, const uint16_t* const* group_cb,
                const RowOutliers& o, float* out) {
  for (uint32_t c = 0; c < cols; ++c) out[c] = half_to_float(group_cb[c / group][codes_row[c]]);
  for (size_t i = 0; i < o.col.size(); ++i) out[o.col[i]] = out[o.col[i]] + half_to_float(o.val[i]);
}

void xfp_reconstruct_rows(const QuantizedLayer& L, uint32_t r0, uint32_t n, float* out) {
  const unsigned k = 1u << L.bits;
  const uint32_t G = L.groups_per_row();
  for (uint32_t r = r0; r < r0 + n; ++r) {
    float* o = out + size_t(r - r0) * L.cols;
    for (uint32_t c = 0; c < L.cols; ++c) {
      const uint32_t g = c / L.group;
      const unsigned code = get_index(L.indices.data(), uint64_t(r) * L.cols + c, L.bits);
      const uint16_t* cb = L.scheme == Scheme::kXfpV2a ? L.codebooks.data() + size_t(L.group_ids[size_t(r) * G + g]) * k
                                                       : L.codebooks.data() + (size_t(r) * G + g) * k;
      o[c] = half_to_float(cb[code]);
    }
    if (L.outliers.row_ptr.empty()) continue;
    for (uint32_t i = L.outliers.row_ptr[r]; i < L.outliers.row_ptr[r + 1]; ++i)
      o[L.outliers.col[i]] = o[L.outliers.col[i]] + half_to_float(L.outliers.val[i]);
  }
}

uint64_t xfp_cost_bits(Scheme mode, uint32_t rows, uint32_t cols, unsigned bits, uint32_t group, uint64_t outliers) {
  // Mirrors the container's sections (docs/xfp-format.md): each has 16 bytes
  // of framing (tag, length, CRC). The layer header is the same for every
  // candidate and left out.
  constexpr uint64_t kFraming = 16;
  const uint64_t n = uint64_t(rows) * cols, k = 1ull << bits;
  const uint32_t g = mode == Scheme::kXfpV2a ? kV2aGroup : (group ? group : cols);
  const uint64_t groups = uint64_t(rows) * ((cols + g - 1) / g);
  uint64_t bytes = kFraming + packed_bytes(n, bits);
  if (mode == Scheme::kXfpV2a)
    bytes += kFraming + 2 * k * kV2aLibrarySize + kFraming + packed_bytes(groups, 5);
  else
    bytes += kFraming + 2 * k * groups;
  if (outliers) {
    const uint64_t col_bytes = cols <= 65536u ? 2 : 4;
    bytes += kFraming + 4 * (uint64_t(rows) + 1) + outliers * (col_bytes + 2);
  }
  return 8 * bytes;
}

}  // namespace lutc::xfp

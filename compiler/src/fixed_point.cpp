// Two passes over row chunks (the exponent needs the whole matrix before any
// integer can be formed), decoding on the fly so memory stays at one chunk.
#include "lutc/compiler/fixed_point.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/golden.h"

namespace lutc {
namespace {

using u128 = unsigned __int128;

uint64_t magnitude(int64_t v) { return v < 0 ? uint64_t(0) - uint64_t(v) : uint64_t(v); }

// weight_to_int(w, ew) is exact only while w's msb is at most 62 above ew.
bool fits_at(float w, int ew) {
  if (w == 0) return true;
  int e;
  std::frexp(w, &e);
  return (e - 1) - ew <= 62;
}

unsigned bit_length(u128 v) {
  unsigned n = 0;
  while (v) {
    ++n;
    v >>= 1;
  }
  return n;
}

// Outlier j of a row: its dense value plus the residual, the golden decode's one rounding.
float merged(const OutlierCsr& o, uint32_t j, const float* row) { return row[o.col[j]] + half_to_float(o.val[j]); }

// Rows of the layer decoded (without outliers) chunk rows at a time into
// dense, each handed to visit(r, row).
template <class Visit>
void for_each_decoded_row(const QuantizedLayer& l, const LayerLuts& luts, const HifFormat& hif, uint32_t chunk,
                          std::vector<float>& dense, Visit visit) {
  for (uint32_t r0 = 0; r0 < l.rows; r0 += chunk) {
    const uint32_t n = std::min(chunk, l.rows - r0);
    hif_decode_rows(l, luts, hif, r0, n, dense.data(), /*with_outliers=*/false);
    for (uint32_t i = 0; i < n; ++i) visit(r0 + i, dense.data() + size_t(i) * l.cols);
  }
}

// First pass: the weight exponent over the merged weights (outliers in
// place of the dense values they replace), as the golden GEMV takes it.
int weight_exponent(const QuantizedLayer& l, const LayerLuts& luts, const HifFormat& hif, uint32_t chunk,
                    std::vector<float>& dense) {
  const OutlierCsr& o = l.outliers;
  const bool has_outliers = !o.row_ptr.empty();
  WeightExponent e;
  for_each_decoded_row(l, luts, hif, chunk, dense, [&](uint32_t r, const float* row) {
    uint32_t j = has_outliers ? o.row_ptr[r] : 0;
    const uint32_t j1 = has_outliers ? o.row_ptr[r + 1] : 0;
    for (uint32_t k = 0; k < l.cols; ++k) {
      if (j < j1 && o.col[j] == k) {
        const float m = merged(o, j, row);
        if (!std::isfinite(m))
          fail_input("", l.name, -1,
                     "outlier at row " + std::to_string(r) + ", column " + std::to_string(k) + " overflows fp32");
        e.add(m);
        ++j;
      } else {
        e.add(row[k]);
      }
    }
  });
  return e.ew();
}

// The integer the engine adds for outlier j of row r: the merged weight's
// integer minus that of the dense value it replaces.
int64_t outlier_delta(const QuantizedLayer& l, uint32_t r, uint32_t j, const float* row, int ew) {
  const OutlierCsr& o = l.outliers;
  // Ew covers the merged weights (as the golden GEMV's does), not the
  // dense value an outlier replaces, which the engine still decodes.
  if (!fits_at(row[o.col[j]], ew))
    fail_input("", l.name, -1,
               "the dense weight under the outlier at row " + std::to_string(r) + ", column " +
                   std::to_string(o.col[j]) + " does not fit 63 bits at the weight exponent");
  const __int128 d = __int128(weight_to_int(merged(o, j, row), ew)) - weight_to_int(row[o.col[j]], ew);
  if (d > INT64_MAX || d < -INT64_MAX)
    fail_input("", l.name, -1, "outlier correction at row " + std::to_string(r) + " exceeds 63 bits");
  return int64_t(d);
}

}  // namespace

FixedPointLayer fixed_point_layer(const QuantizedLayer& l, const LayerLuts& luts, const HifFormat& hif,
                                  unsigned act_bits) {
  FixedPointLayer fp;
  const OutlierCsr& o = l.outliers;
  const bool has_outliers = !o.row_ptr.empty();
  const uint32_t K = l.cols;
  const uint32_t chunk =
      std::max<uint32_t>(1, uint32_t(std::min<uint64_t>(l.rows, (uint64_t(1) << 20) / std::max(1u, K))));
  std::vector<float> dense(size_t(chunk) * K);
  fp.weight_exp = weight_exponent(l, luts, hif, chunk, dense);

  // Second pass: the outlier corrections, and the largest sum of |term| of
  // any row, which bounds every partial sum in any order.
  fp.outlier_delta.resize(o.col.size());
  const u128 amax = (u128(1) << (act_bits - 1)) - 1;
  u128 worst = 0;
  for_each_decoded_row(l, luts, hif, chunk, dense, [&](uint32_t r, const float* row) {
    u128 sum = 0;
    for (uint32_t k = 0; k < K; ++k) sum += magnitude(weight_to_int(row[k], fp.weight_exp));
    if (has_outliers)
      for (uint32_t j = o.row_ptr[r]; j < o.row_ptr[r + 1]; ++j) {
        fp.outlier_delta[j] = outlier_delta(l, r, j, row, fp.weight_exp);
        sum += magnitude(fp.outlier_delta[j]);
      }
    worst = std::max(worst, sum);
  });
  fp.acc_bits_needed = bit_length(worst * amax) + 1;
  return fp;
}

}  // namespace lutc

#pragma once
// Turning a chosen per-group codebook and outlier set into stored codes and
// fp16 residuals, and the reconstruction the quantizer verifies floors with
// (the golden decode rule for xfp: fp16 entry + fp16 residual, one fp32 add).
#include <cstdint>
#include <vector>

#include "lutc/model/layer.h"
#include "xfp/xfp_sorted.h"

namespace lutc::xfp {

struct RowOutliers {
  std::vector<uint32_t> col;  // ascending
  std::vector<uint16_t> val;
};

// group_cb[g] points at group g's 2^b fp16 entries (ascending).
void encode_row(const SortedMatrix& m, const RowRuns& rr, uint32_t r, const float* wrow, const Trims& t,
                const uint16_t* const* group_cb, unsigned k, uint8_t* codes_row, RowOutliers* out);

// Dense decode of one row from unpacked codes, plus its outliers.
void decode_row(const uint8_t* codes_row, uint32_t cols, uint32_t group, const uint16_t* const* group_cb,
                const RowOutliers& o, float* out);

// W_hat of rows [r0, r0 + n) from a finished xfp layer (packed form).
void xfp_reconstruct_rows(const QuantizedLayer& layer, uint32_t r0, uint32_t n, float* out);

// Stored bits of an xfp layer of this shape (indices, codebooks, group ids,
// outlier CSR); the one place the search's cost model lives.
uint64_t xfp_cost_bits(Scheme mode, uint32_t rows, uint32_t cols, unsigned bits, uint32_t group, uint64_t outliers);

}  // namespace lutc::xfp

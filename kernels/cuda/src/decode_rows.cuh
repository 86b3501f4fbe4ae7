#pragma once
// The decode kernel's per-lane work, host+device (emulate.cu runs it on the
// CPU). A warp owns a row: lane L writes columns L, L+32, ...; then, after a
// __syncwarp, the row's outliers overwrite their positions with
// dense + residual (one fp32 add, as the golden decode does).
#include "layer_view.cuh"

namespace lutc::kernels::cuda {

LUTC_HD void decode_lane_dense(const LayerView& v, uint32_t r, uint32_t lane, float* row_out) {
  for (uint32_t k = lane; k < v.cols; k += 32) row_out[k] = dense_at(v, v.shared, v.sop_scale, r, k);
}

LUTC_HD void decode_lane_outliers(const LayerView& v, uint32_t r, uint32_t lane, float* row_out) {
  if (!v.out_row_ptr) return;
  for (uint32_t e = v.out_row_ptr[r] + lane; e < v.out_row_ptr[r + 1]; e += 32) {
    const uint32_t c = v.out_col[e];
    row_out[c] = add_rn(dense_at(v, v.shared, v.sop_scale, r, c), v.out_residual[e]);
  }
}

}  // namespace lutc::kernels::cuda

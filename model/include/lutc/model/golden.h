#pragma once
// The two references every implementation is checked against
// (docs/numerics.md): the golden decode (W_hat in fp32) and the golden GEMV
// (accelerator numerics: integer products, order-independent wide fixed-point
// accumulation, one rounding to fp32).
#include <cstdint>

#include "lutc/model/layer.h"

namespace lutc {

// W_hat for rows [r0, r0+n), row-major n x cols.
void golden_decode_rows(const QuantizedLayer& layer, uint32_t r0, uint32_t n, float* out);
void golden_decode(const QuantizedLayer& layer, float* out);  // rows x cols

struct GemvConfig {
  unsigned act_bits = 16;  // 8 or 16: signed integer activation width
};

// y[m][r] = sum_k W[r][k] * x[m][k] with the accelerator numerics, for any fp32
// weight matrix whose values are the golden decode (or the compiler's
// HIF-rounded weights). x is batch x cols fp32, rounded to bf16 on entry.
void golden_gemv_weights(const float* w, uint32_t rows, uint32_t cols, const float* x,
                         uint32_t batch, const GemvConfig& cfg, float* y);
void golden_gemv(const QuantizedLayer& layer, const float* x, uint32_t batch,
                 const GemvConfig& cfg, float* y);

}  // namespace lutc

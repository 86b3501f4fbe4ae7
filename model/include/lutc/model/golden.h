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
void golden_gemv_weights(const float* w, uint32_t rows, uint32_t cols, const float* x, uint32_t batch,
                         const GemvConfig& cfg, float* y);
void golden_gemv(const QuantizedLayer& layer, const float* x, uint32_t batch, const GemvConfig& cfg, float* y);

// The golden GEMV's steps, exposed so every exact implementation shares them
// (docs/numerics.md "Golden GEMV").

// One activation vector: bf16 rounding, then a[k] * 2^exp ~ x[k] with
// |a[k]| <= 2^(act_bits-1) - 1. Returns exp (0 for an all-zero vector).
// Throws Error(kBadInput) on NaN/Inf or a value that overflows bf16.
int quantize_activations(const float* x, uint32_t cols, unsigned act_bits, int32_t* a);

// The weight exponent Ew of a matrix: max(min lsb_exp, max msb_exp - 62) over
// nonzero entries (0 when all are zero), and w_int = trunc(w * 2^-Ew).
struct WeightExponent {
  bool any = false;
  int min_lsb = 0;
  int max_msb = 0;
  void add(float w);  // w finite
  int ew() const { return any ? (min_lsb > max_msb - 62 ? min_lsb : max_msb - 62) : 0; }
};
int64_t weight_to_int(float w, int ew);

// acc * 2^exp2 rounded once, to nearest even, to fp32 (subnormals, overflow to inf).
float scaled_int128_to_float(__int128 acc, int exp2);

}  // namespace lutc

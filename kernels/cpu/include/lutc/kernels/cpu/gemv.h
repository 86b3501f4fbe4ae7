#pragma once
// Fused decode + GEMV/GEMM on the CPU: y[m][r] = sum_k W_hat[r][k] * x[m][k]
// for a batch of M activation vectors (x is M x cols, y is M x rows).
//
// Three paths:
//  - exact  : the golden GEMV of docs/numerics.md bit for bit (integer
//             activations, integer weights, exact 128-bit sums, one rounding);
//             decode_exact gives the golden decode bit for bit.
//  - f32    : fp32 FMA accumulation of the decoded weights in the kernel's own
//             order; compared with an fp64 reference by NMSE.
//  - i8     : 4-bit schemes only: each group's 16-entry table rounded to int8
//             and looked up with a byte shuffle, activations rounded to int8
//             per block of 32, integer dot products (the IQ4_NL scheme);
//             lossier than f32, compared by NMSE.
// The outlier residual is applied while each row is processed.
#include <cstdint>
#include <string>

#include "lutc/kernels/cpu/isa.h"
#include "lutc/kernels/cpu/packed_layer.h"
#include "lutc/kernels/cpu/thread_pool.h"
#include "lutc/model/golden.h"

namespace lutc::kernels {

enum class Path { kExact, kF32, kI8 };
const char* path_name(Path p);
bool parse_path(const std::string& name, Path* out);
bool path_supports(Path p, const PackedLayer& layer);  // i8 needs 4-bit codes

struct RunOptions {
  Isa isa = best_isa();
  ThreadPool* pool = nullptr;  // nullptr: the calling thread only
};

// W_hat rows [r0, r0+n) (n x cols fp32), bit-identical to golden_decode_rows.
void decode_exact(const PackedLayer& layer, uint32_t r0, uint32_t n, float* out, const RunOptions& opt = {});

// Bit-identical to golden_gemv(layer, x, batch, cfg, y).
void gemv_exact(const PackedLayer& layer, const float* x, uint32_t batch, const GemvConfig& cfg, float* y,
                const RunOptions& opt = {});

// Path kF32 or kI8.
void gemv_fast(Path path, const PackedLayer& layer, const float* x, uint32_t batch, float* y,
               const RunOptions& opt = {});

}  // namespace lutc::kernels

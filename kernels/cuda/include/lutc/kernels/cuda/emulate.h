#pragma once
// The CUDA kernels run on the CPU: the same per-lane code the GPU executes
// (compiled for the host by nvcc), driven lane by lane with the warp's
// reductions replayed in the device's order. Machines without a GPU check
// the kernels' indexing and numerics against the golden reference with it,
// and on a GPU gemv_fast's output must equal gpu_gemv_fast's bit for bit.
// Slow (one scalar lane at a time): meant for tests, not for timing.
#include <cstdint>

#include "lutc/kernels/cpu/packed_layer.h"
#include "lutc/kernels/cuda/gpu.h"
#include "lutc/model/golden.h"

namespace lutc::kernels::cuda::emulate {

// What gpu_decode, gpu_gemv_exact and gpu_gemv_fast compute, same arguments.
void decode(const PackedLayer& p, float* out);
void gemv_exact(const PackedLayer& p, const float* x, uint32_t batch, const GemvConfig& cfg, float* y);
void gemv_fast(const PackedLayer& p, const float* x, uint32_t batch, ActType act, float* y);

}  // namespace lutc::kernels::cuda::emulate

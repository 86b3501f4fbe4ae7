#pragma once
// The engine rules are inline functions that the CUDA kernels call from
// device code too; under nvcc they are __host__ __device__, elsewhere plain.
#if defined(__CUDACC__)
#define LUTC_SPEC_HD __host__ __device__
#else
#define LUTC_SPEC_HD
#endif

#pragma once
// Every CUDA runtime call and launch goes through CUDA_CHECK, so a failure is
// a lutc::Error naming the call and where it was made instead of a silent
// wrong answer later.
#include <cuda_runtime.h>

#include <string>

#include "lutc/model/error.h"

namespace lutc::kernels::cuda {

[[noreturn]] inline void cuda_fail(cudaError_t e, const char* call, const char* file, int line) {
  throw Error(ExitCode::kInternal, std::string("CUDA error: ") + call + " -> " + cudaGetErrorName(e) + " (" +
                                       cudaGetErrorString(e) + ") at " + file + ":" + std::to_string(line));
}

}  // namespace lutc::kernels::cuda

#define CUDA_CHECK(call)                                                                                            \
  do {                                                                                                              \
    const cudaError_t lutc_cuda_err_ = (call);                                                                      \
    if (lutc_cuda_err_ != cudaSuccess) ::lutc::kernels::cuda::cuda_fail(lutc_cuda_err_, #call, __FILE__, __LINE__); \
  } while (0)

// After a <<<...>>> launch: configuration errors surface from cudaGetLastError.
#define CUDA_CHECK_LAUNCH(name)                                                                \
  do {                                                                                         \
    const cudaError_t lutc_cuda_err_ = cudaGetLastError();                                     \
    if (lutc_cuda_err_ != cudaSuccess)                                                         \
      ::lutc::kernels::cuda::cuda_fail(lutc_cuda_err_, "launch of " name, __FILE__, __LINE__); \
  } while (0)

// gpu_bench: the fast kernel, a device-to-device copy and cuBLAS fp16 GEMV,
// timed with CUDA events in one call so the three numbers share a machine
// state. Each timed round visits every copy once; the best round counts.
#include <cublas_v2.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cuda_check.h"
#include "device_layer.h"

namespace lutc::kernels::cuda {
namespace {

constexpr size_t kWorkingSet = size_t(512) << 20;  // well past any current L2 (H100: 50 MiB)

#define CUBLAS_CHECK(call)                                                                             \
  do {                                                                                                 \
    const cublasStatus_t lutc_st_ = (call);                                                            \
    if (lutc_st_ != CUBLAS_STATUS_SUCCESS)                                                             \
      throw Error(ExitCode::kInternal, std::string("cuBLAS error: ") + #call + " -> " +                \
                                           cublasGetStatusString(lutc_st_) + " at " + __FILE__ + ":" + \
                                           std::to_string(__LINE__));                                  \
  } while (0)

class Events {
 public:
  Events() {
    CUDA_CHECK(cudaEventCreate(&a_));
    CUDA_CHECK(cudaEventCreate(&b_));
  }
  ~Events() {
    cudaEventDestroy(a_);
    cudaEventDestroy(b_);
  }
  // Best seconds per call of f over `repeat` rounds of `calls` calls.
  template <class F>
  double best(unsigned repeat, unsigned calls, F f) {
    f(0);  // warm-up: first-launch costs and the clocks' ramp
    CUDA_CHECK(cudaDeviceSynchronize());
    float best_ms = 1e30f;
    for (unsigned i = 0; i < repeat; ++i) {
      CUDA_CHECK(cudaEventRecord(a_));
      for (unsigned c = 0; c < calls; ++c) f(c);
      CUDA_CHECK(cudaEventRecord(b_));
      CUDA_CHECK(cudaEventSynchronize(b_));
      float ms = 0;
      CUDA_CHECK(cudaEventElapsedTime(&ms, a_, b_));
      best_ms = std::min(best_ms, ms);
    }
    return 1e-3 * best_ms / calls;
  }

 private:
  cudaEvent_t a_{}, b_{};
};

struct Cublas {
  cublasHandle_t h{};
  Cublas() { CUBLAS_CHECK(cublasCreate(&h)); }
  ~Cublas() { cublasDestroy(h); }
};

}  // namespace

GpuBenchResult gpu_bench(const PackedLayer& p, uint32_t batch, ActType act, unsigned repeat) {
  GpuBenchResult res;
  std::vector<DeviceLayer> layers;
  layers.emplace_back(p);
  res.streamed_bytes = layers[0].streamed_bytes();
  const size_t bytes = std::max<size_t>(res.streamed_bytes, 1);
  res.copies = unsigned(std::clamp<size_t>((kWorkingSet + bytes - 1) / bytes, 1, 4096));
  for (unsigned c = 1; c < res.copies; ++c) layers.emplace_back(p);

  // Activations: small values, the same bits for fp16 and bf16 timing purposes.
  std::vector<uint16_t> xs(size_t(batch) * p.cols, act == ActType::kF16 ? 0x3c00 : 0x3f80);
  DeviceBuffer d_x(std::max<size_t>(xs.size(), 1) * 2), d_y(std::max<size_t>(size_t(batch) * p.rows, 1) * 4);
  d_x.upload(xs.data(), xs.size() * 2);
  Events ev;
  res.kernel_s = ev.best(repeat, res.copies, [&](unsigned c) {
    gpu_gemv_fast_device(layers[c], d_x.get(), batch, act, static_cast<float*>(d_y.get()));
  });
  layers.clear();

  // The copy yardstick moves the same working set the kernel streamed.
  {
    const size_t n = bytes * res.copies;
    DeviceBuffer src(n), dst(n);
    CUDA_CHECK(cudaMemset(src.get(), 1, n));
    const double t = ev.best(
        repeat, 1, [&](unsigned) { CUDA_CHECK(cudaMemcpy(dst.get(), src.get(), n, cudaMemcpyDeviceToDevice)); });
    res.copy_gbps = 2.0 * double(n) / t / 1e9;
  }

  // cuBLAS: fp16 weights (rows x cols, row-major = column-major cols x rows,
  // so y = A^T x), fp16 activations and output, fp32 accumulation.
  {
    const size_t wbytes = size_t(p.rows) * p.cols * 2;
    const unsigned copies = unsigned(std::clamp<size_t>((kWorkingSet + wbytes - 1) / wbytes, 1, 4096));
    std::vector<DeviceBuffer> w;
    for (unsigned c = 0; c < copies; ++c) {
      w.emplace_back(wbytes);
      CUDA_CHECK(cudaMemset(w.back().get(), 0x11, wbytes));  // small finite fp16 values
    }
    DeviceBuffer hx(std::max<size_t>(size_t(batch) * p.cols, 1) * 2),
        hy(std::max<size_t>(size_t(batch) * p.rows, 1) * 2);
    CUDA_CHECK(cudaMemset(hx.get(), 0x11, hx.size()));
    Cublas cb;
    const float alpha = 1.f, beta = 0.f;
    res.cublas_s = ev.best(repeat, copies, [&](unsigned c) {
      CUBLAS_CHECK(cublasGemmEx(cb.h, CUBLAS_OP_T, CUBLAS_OP_N, int(p.rows), int(batch), int(p.cols), &alpha,
                                w[c].get(), CUDA_R_16F, int(p.cols), hx.get(), CUDA_R_16F, int(p.cols), &beta, hy.get(),
                                CUDA_R_16F, int(p.rows), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    });
  }
  return res;
}

}  // namespace lutc::kernels::cuda

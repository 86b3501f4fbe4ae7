#pragma once
// One harness for the two ways the CUDA kernels run: on a GPU, and on the
// CPU through the host emulation (emulate.h). check_layer takes a layer
// through decode, the exact GEMV and the fast GEMV (fp16 and bf16, batches
// 1, 3 and 16) on the chosen backend and compares with model/'s golden
// reference: bit for bit where the contract says so, and for the fast path
// within a rigorous error bound of the fp64 product. On a GPU the fast path must also equal the emulation
// bit for bit, which checks that the device ran the code as designed.
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernel_schemes.h"
#include "kernel_test_util.h"
#include "lutc/kernels/cuda/emulate.h"
#include "lutc/kernels/cuda/gpu.h"
#include "lutc/model/golden.h"

namespace lutc::testing {

namespace kc = kernels::cuda;

enum class CudaBackend { kEmulated, kDevice };
inline void PrintTo(CudaBackend b, std::ostream* os) { *os << (b == CudaBackend::kDevice ? "device" : "emulated"); }

#define REQUIRE_GPU()                                                                           \
  do {                                                                                          \
    if (!kc::gpu_available()) GTEST_SKIP() << "no CUDA device: GPU kernel checks not run here"; \
  } while (0)

// The fast path's accuracy check: within_summation_bound (kernel_test_util.h)
// with the depth of the kernel's own summation tree for a row: a lane fmaf's
// its blocks' 32 codes each (ceil(blocks/32) blocks) and its share of the
// row's outliers, then 5 butterfly adds. A wrong code moves y by about
// S / cols, far above gamma_d S for rows up to ~20 000 columns, so the bound
// still catches indexing bugs.
inline ::testing::AssertionResult fast_within_bound(const QuantizedLayer& l, const kernels::PackedLayer& p,
                                                    const std::vector<float>& w_hat, const std::vector<float>& xr,
                                                    uint32_t batch, const std::vector<double>& ref,
                                                    const std::vector<float>& y) {
  const uint32_t blocks = p.padded_cols() / 32, per_lane = (blocks + 31) / 32 * 32;
  return within_summation_bound(l, w_hat, xr, batch, ref, y,
                                [&](uint32_t outliers) { return per_lane + (outliers + 31) / 32 + 5; });
}

inline void check_layer(const QuantizedLayer& l, uint64_t seed, CudaBackend backend,
                        std::vector<uint32_t> batches = {1, 3, 16}) {
  SCOPED_TRACE(std::string(backend == CudaBackend::kDevice ? "device " : "emulated ") + scheme_name(l.scheme) + " " +
               l.name + " " + std::to_string(l.rows) + "x" + std::to_string(l.cols) + " bits " +
               std::to_string(l.bits) + " group " + std::to_string(l.group));
  const kernels::PackedLayer p = kernels::pack_layer(l);
  const bool device = backend == CudaBackend::kDevice;
  std::unique_ptr<kc::DeviceLayer> dev;
  if (device) dev = std::make_unique<kc::DeviceLayer>(p);

  std::vector<float> want_w(size_t(l.rows) * l.cols);
  golden_decode(l, want_w.data());
  std::vector<float> got_w = poisoned(want_w.size());
  if (device)
    kc::gpu_decode(*dev, got_w.data());
  else
    kc::emulate::decode(p, got_w.data());
  EXPECT_TRUE(same_bits(want_w, got_w, l.cols)) << "decode";

  std::mt19937_64 rng(seed);
  for (uint32_t batch : batches) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    const std::vector<float> x = random_activations(rng, size_t(batch) * l.cols);
    GemvConfig cfg;
    std::vector<float> want_y(size_t(batch) * l.rows), got_y = poisoned(want_y.size());
    golden_gemv(l, x.data(), batch, cfg, want_y.data());
    if (device)
      kc::gpu_gemv_exact(*dev, x.data(), batch, cfg, got_y.data());
    else
      kc::emulate::gemv_exact(p, x.data(), batch, cfg, got_y.data());
    EXPECT_TRUE(same_bits(want_y, got_y, l.rows)) << "exact GEMV";
    for (kc::ActType act : {kc::ActType::kF16, kc::ActType::kBf16}) {
      std::vector<float> xr(x.size());
      for (size_t i = 0; i < x.size(); ++i) xr[i] = kc::round_act(x[i], act);
      std::vector<float> emulated = poisoned(want_y.size());
      kc::emulate::gemv_fast(p, x.data(), batch, act, emulated.data());
      EXPECT_TRUE(fast_within_bound(l, p, want_w, xr, batch, reference_fp64(l, xr, batch), emulated))
          << "emulated fast GEMV, " << kc::act_type_name(act) << " activations";
      if (device) {
        std::vector<float> fast = poisoned(want_y.size());
        kc::gpu_gemv_fast(*dev, x.data(), batch, act, fast.data());
        EXPECT_TRUE(same_bits(emulated, fast, l.rows))
            << "device fast GEMV differs from its emulation, " << kc::act_type_name(act) << " activations";
      }
    }
  }
}

}  // namespace lutc::testing

// The CUDA kernels against model/'s golden reference: decoded weights and the
// exact GEMV bit for bit, the fast GEMV by NMSE against fp64, for every scheme
// (sop included), batches 1, 3 and 16, awkward shapes, NaN-poisoned outputs.
// Without a CUDA device every GPU test skips with a message saying so.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "kernel_schemes.h"
#include "kernel_test_util.h"
#include "lutc/kernels/cuda/gpu.h"
#include "lutc/model/error.h"
#include "lutc/model/golden.h"

namespace lutc::testing {
namespace {

namespace kc = kernels::cuda;

#define REQUIRE_GPU()                                                                             \
  do {                                                                                            \
    if (!kc::gpu_available()) GTEST_SKIP() << "no CUDA device: GPU kernel checks not run here"; \
  } while (0)

constexpr uint32_t kBatches[] = {1, 3, 16};
constexpr double kFastBound = 1e-9;  // fp32 sums; one wrong code in a row gives ~1e-4

std::vector<double> reference_rounded(const QuantizedLayer& l, const std::vector<float>& x, uint32_t batch,
                                      kc::ActType act) {
  std::vector<float> xr(x.size());
  for (size_t i = 0; i < x.size(); ++i) xr[i] = kc::round_act(x[i], act);
  return reference_fp64(l, xr, batch);
}

void check_layer(const QuantizedLayer& l, uint64_t seed) {
  SCOPED_TRACE(std::string(scheme_name(l.scheme)) + " " + std::to_string(l.rows) + "x" + std::to_string(l.cols) +
               " bits " + std::to_string(l.bits) + " group " + std::to_string(l.group));
  const kc::DeviceLayer dev(kernels::pack_layer(l));
  std::vector<float> want_w(size_t(l.rows) * l.cols);
  golden_decode(l, want_w.data());
  std::vector<float> got_w = poisoned(want_w.size());
  kc::gpu_decode(dev, got_w.data());
  EXPECT_TRUE(same_bits(want_w, got_w, l.cols)) << "decode";

  std::mt19937_64 rng(seed);
  for (uint32_t batch : kBatches) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    const std::vector<float> x = random_activations(rng, size_t(batch) * l.cols);
    GemvConfig cfg;
    std::vector<float> want_y(size_t(batch) * l.rows), got_y = poisoned(want_y.size());
    golden_gemv(l, x.data(), batch, cfg, want_y.data());
    kc::gpu_gemv_exact(dev, x.data(), batch, cfg, got_y.data());
    EXPECT_TRUE(same_bits(want_y, got_y, l.rows)) << "exact GEMV";
    for (kc::ActType act : {kc::ActType::kF16, kc::ActType::kBf16}) {
      std::vector<float> fast = poisoned(want_y.size());
      kc::gpu_gemv_fast(dev, x.data(), batch, act, fast.data());
      const double e = nmse(reference_rounded(l, x, batch, act), fast);
      EXPECT_LE(e, kFastBound) << "fast GEMV, " << kc::act_type_name(act) << " activations";
    }
  }
}

TEST(GpuDevice, AvailabilityNeverThrows) {
  bool available = true;
  EXPECT_NO_THROW(available = kc::gpu_available());
  if (!available) {
    EXPECT_EQ(kc::gpu_name(), "");
    GTEST_SKIP() << "no CUDA device: only the no-device path was checked";
  }
  EXPECT_NE(kc::gpu_name(), "");
}

TEST(GpuParity, EverySchemeRandomLayers) {
  REQUIRE_GPU();
  std::mt19937_64 rng(7);
  for (Scheme s : kKernelSchemes)
    for (int i = 0; i < 4; ++i) check_layer(random_kernel_layer(s, rng), rng());
}

TEST(GpuParity, AwkwardShapes) {
  REQUIRE_GPU();
  std::mt19937_64 rng(11);
  const std::pair<uint32_t, uint32_t> shapes[] = {{1, 1}, {1, 31}, {3, 33}, {7, 129}, {33, 200}, {5, 4099}, {130, 64}};
  for (Scheme s : kKernelSchemes)
    for (auto [rows, cols] : shapes) {
      SampleOptions o;
      o.rows = rows;
      o.cols = cols;
      check_layer(random_kernel_layer(s, rng, o), rng());
    }
}

TEST(GpuParity, QuantizedSopFormats) {
  REQUIRE_GPU();
  std::mt19937_64 rng(13);
  std::normal_distribution<float> normal(0.f, 0.02f);
  const uint32_t rows = 48, cols = 320;
  std::vector<float> w(size_t(rows) * cols);
  for (auto& v : w) v = normal(rng);
  for (const auto& f : sop_test_formats()) check_layer(sop_layer(f, "gpu." + f, w.data(), rows, cols), rng());
}

TEST(GpuParity, FastPathRefusesBatchOutsideRange) {
  REQUIRE_GPU();
  std::mt19937_64 rng(17);
  const kc::DeviceLayer dev(kernels::pack_layer(random_kernel_layer(Scheme::kInt4G128, rng)));
  std::vector<float> x(size_t(17) * dev.cols()), y(size_t(17) * dev.rows());
  EXPECT_THROW(kc::gpu_gemv_fast(dev, x.data(), 17, kc::ActType::kF16, y.data()), Error);
}

}  // namespace
}  // namespace lutc::testing

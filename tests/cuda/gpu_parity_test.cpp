// The CUDA kernels against model/'s golden reference (cuda_backend.h), for
// every scheme (sop included), awkward shapes and every index width: once
// through the host emulation, which runs everywhere, and once on the GPU,
// which skips with a message where there is none.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "cuda_backend.h"
#include "lutc/model/error.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

class CudaKernels : public ::testing::TestWithParam<CudaBackend> {
 protected:
  void SetUp() override {
    if (GetParam() == CudaBackend::kDevice) REQUIRE_GPU();
  }
};

TEST_P(CudaKernels, EverySchemeRandomLayers) {
  std::mt19937_64 rng(fresh_seed());
  for (Scheme s : kKernelSchemes)
    for (int i = 0; i < 4; ++i) check_layer(random_kernel_layer(s, rng), rng(), GetParam());
}

TEST_P(CudaKernels, EveryIndexWidth) {
  std::mt19937_64 rng(fresh_seed());
  for (Scheme s : {Scheme::kXfpV2, Scheme::kXfpV2a})
    for (unsigned bits : {2u, 3u, 4u, 5u, 6u, 8u}) {
      SampleOptions o;
      o.bits = bits;
      o.rows = 9;
      o.cols = 300;
      check_layer(random_kernel_layer(s, rng, o), rng(), GetParam(), {1, 2, 5, 9});
    }
}

// Groups of 8 and 16 take the GPU's dense layout (several groups per block of
// 32 code slots): every code width, full and short last groups.
TEST_P(CudaKernels, DenseSmallGroups) {
  std::mt19937_64 rng(fresh_seed());
  for (uint32_t group : {8u, 16u})
    for (unsigned bits : {2u, 3u, 4u, 5u, 6u, 8u})
      for (uint32_t cols : {8u, 40u, 100u, 1000u}) {
        if (group > cols) continue;  // the format's own limit
        SampleOptions o;
        o.bits = bits;
        o.rows = 5;
        o.cols = cols;
        QuantizedLayer l = random_kernel_layer(Scheme::kXfpV2, rng, o);
        if (l.group != group) {  // regroup: fresh codebooks for the new group count
          l.group = group;
          l.codebooks.resize(size_t(l.rows) * l.groups_per_row() << l.bits);
          for (auto& h : l.codebooks) h = random_finite_half(rng);
        }
        check_layer(l, rng(), GetParam(), {1, 4});
      }
}

TEST(CudaLayout, DenseLayoutStreamsNoGroupPadding) {
  std::mt19937_64 rng(fresh_seed());
  std::normal_distribution<float> normal(0.f, 0.02f);
  const uint32_t rows = 16, cols = 1024;
  std::vector<float> w(size_t(rows) * cols);
  for (auto& v : w) v = normal(rng);
  // sop: pack_layer's own layout has no padding (dense for b8/b16, none needed for b32 here); the GPU streams it as it
  // is.
  for (const char* f : {"e2m1.ue4m3.b16", "e2m3.ue4m4.b16", "nf4.ue4m2.b8", "e2m1.ue4m3.b32"}) {
    SCOPED_TRACE(f);
    const kernels::PackedLayer p = kernels::pack_layer(sop_layer(f, "dense", w.data(), rows, cols));
    const size_t codes = size_t(rows) * cols * p.bits / 8;  // no padding at all: cols is a multiple of 32
    EXPECT_EQ(p.indices.size(), codes);
    EXPECT_EQ(kc::gpu_streamed_bytes(p), p.streamed_bytes());
  }
  // xfp.v2 with groups of 8 or 16: padded by pack_layer, repacked densely on upload.
  for (const uint32_t group : {8u, 16u}) {
    SampleOptions o;
    o.rows = rows;
    o.cols = cols;
    o.bits = 4;
    QuantizedLayer l = random_kernel_layer(Scheme::kXfpV2, rng, o);
    l.group = group;
    l.codebooks.resize(size_t(l.rows) * l.groups_per_row() << l.bits);
    for (auto& h : l.codebooks) h = random_finite_half(rng);
    const kernels::PackedLayer p = kernels::pack_layer(l);
    SCOPED_TRACE("xfp.v2 group " + std::to_string(group));
    EXPECT_EQ(kc::gpu_streamed_bytes(p), p.streamed_bytes() - p.indices.size() + size_t(rows) * cols * 4 / 8);
    EXPECT_LT(kc::gpu_streamed_bytes(p), p.streamed_bytes());
  }
}

TEST_P(CudaKernels, AwkwardShapes) {
  std::mt19937_64 rng(fresh_seed());
  const std::pair<uint32_t, uint32_t> shapes[] = {{1, 1}, {1, 31}, {3, 33}, {7, 129}, {33, 200}, {5, 4099}, {130, 64}};
  for (Scheme s : kKernelSchemes)
    for (auto [rows, cols] : shapes) {
      SampleOptions o;
      o.rows = rows;
      o.cols = cols;
      check_layer(random_kernel_layer(s, rng, o), rng(), GetParam(), {1, 16});
    }
}

TEST_P(CudaKernels, QuantizedSopFormats) {
  std::mt19937_64 rng(fresh_seed());
  std::normal_distribution<float> normal(0.f, 0.02f);
  const uint32_t rows = 48, cols = 320;
  std::vector<float> w(size_t(rows) * cols);
  for (auto& v : w) v = normal(rng);
  for (const auto& f : sop_test_formats())
    check_layer(sop_layer(f, "cuda." + f, w.data(), rows, cols), rng(), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Backends, CudaKernels, ::testing::Values(CudaBackend::kEmulated, CudaBackend::kDevice),
                         [](const ::testing::TestParamInfo<CudaBackend>& i) {
                           return i.param == CudaBackend::kDevice ? "Device" : "Emulated";
                         });

TEST(GpuDevice, AvailabilityNeverThrows) {
  bool available = true;
  EXPECT_NO_THROW(available = kc::gpu_available());
  if (!available) {
    EXPECT_EQ(kc::gpu_name(), "");
    GTEST_SKIP() << "no CUDA device: only the no-device path was checked";
  }
  EXPECT_NE(kc::gpu_name(), "");
}

TEST(CudaEmulation, FastPathRefusesBatchOutsideRange) {
  std::mt19937_64 rng(17);
  const kernels::PackedLayer p = kernels::pack_layer(random_kernel_layer(Scheme::kInt4G128, rng));
  std::vector<float> x(size_t(17) * p.cols), y(size_t(17) * p.rows);
  EXPECT_THROW(kc::emulate::gemv_fast(p, x.data(), 17, kc::ActType::kF16, y.data()), Error);
  EXPECT_THROW(kc::emulate::gemv_fast(p, x.data(), 0, kc::ActType::kF16, y.data()), Error);
}

TEST(GpuDevice, FastPathRefusesBatchOutsideRange) {
  REQUIRE_GPU();
  std::mt19937_64 rng(17);
  const kernels::PackedLayer p = kernels::pack_layer(random_kernel_layer(Scheme::kInt4G128, rng));
  std::vector<float> x(size_t(17) * p.cols), y(size_t(17) * p.rows);
  const kc::DeviceLayer dev(p);
  EXPECT_THROW(kc::gpu_gemv_fast(dev, x.data(), 17, kc::ActType::kF16, y.data()), Error);
  EXPECT_THROW(kc::gpu_gemv_fast(dev, x.data(), 0, kc::ActType::kF16, y.data()), Error);
}

}  // namespace
}  // namespace lutc::testing

// The AVX-512 i8 rows for groups of exactly 128 (i8_rows128_avx512.cpp)
// against the portable i8 rows. Both take the same int8 activations, the
// same int8 weights (int4.g128: the codes minus an integer zero; xfp.v2a and
// xfp.v2: the library or the group's codebook rounded once at pack time) and exact int32 dot products per
// block; only the fp32 order of the scale products and sums differs. So
// they must agree to a few fp32 roundings, far tighter than the i8 path's
// error against fp64 (a wrong table, scale or correction is off by ~1e-2).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernel_test_util.h"
#include "lutc/kernels/cpu/gemv.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

using kernels::Isa;
using kernels::Path;

std::vector<float> run_i8(const kernels::PackedLayer& p, const std::vector<float>& x, uint32_t batch, Isa isa,
                          kernels::ThreadPool* pool) {
  kernels::RunOptions opt;
  opt.isa = isa;
  opt.pool = pool;
  std::vector<float> y = poisoned(size_t(batch) * p.rows);
  kernels::gemv_fast(Path::kI8, p, x.data(), batch, y.data(), opt);
  return y;
}

// Largest |avx512 - portable| per output over the output's scale sum|w||x|.
double worst_relative_gap(const QuantizedLayer& l, const std::vector<float>& x, uint32_t batch,
                          const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<float> w(size_t(l.rows) * l.cols);
  golden_decode(l, w.data());
  double worst = 0;
  for (uint32_t m = 0; m < batch; ++m)
    for (uint32_t r = 0; r < l.rows; ++r) {
      double scale = 0;
      for (uint32_t k = 0; k < l.cols; ++k)
        scale += std::fabs(double(w[size_t(r) * l.cols + k]) * x[size_t(m) * l.cols + k]);
      const size_t i = size_t(m) * l.rows + r;
      EXPECT_TRUE(std::isfinite(a[i]) && std::isfinite(b[i])) << "row " << r << " vector " << m;
      if (scale > 0) worst = std::max(worst, std::fabs(double(a[i]) - b[i]) / scale);
    }
  return worst;
}

void expect_matches_portable(const QuantizedLayer& l, std::mt19937_64& rng) {
  const kernels::PackedLayer p = kernels::pack_layer(l);
  kernels::ThreadPool pool(2);
  // Batches 1..4 are every tile width; 7 = a tile of 4 and one of 3. Rows
  // not a multiple of the row tile leave single rows at each range's end.
  for (uint32_t batch : {1u, 2u, 3u, 4u, 7u}) {
    const std::vector<float> x = random_activations(rng, size_t(batch) * l.cols);
    const std::vector<float> ref = run_i8(p, x, batch, Isa::kPortable, nullptr);
    for (kernels::ThreadPool* tp : {static_cast<kernels::ThreadPool*>(nullptr), &pool}) {
      const std::vector<float> y = run_i8(p, x, batch, Isa::kAvx512, tp);
      EXPECT_LT(worst_relative_gap(l, x, batch, y, ref), 1e-5)
          << scheme_name(l.scheme) << " " << l.rows << "x" << l.cols << " batch " << batch
          << (tp ? " 2 threads" : " 1 thread");
    }
  }
}

class I8Rows128 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kernels::isa_available(Isa::kAvx512)) GTEST_SKIP() << "this CPU has no AVX-512: nothing to compare";
  }
};

TEST_F(I8Rows128, EverySchemeMatchesThePortableRows) {
  const uint64_t seed = fresh_seed();
  std::mt19937_64 rng(seed);
  for (Scheme s : {Scheme::kInt4G128, Scheme::kXfpV2a, Scheme::kXfpV2})
    for (auto [rows, cols] : {std::pair<uint32_t, uint32_t>{37, 1024}, {70, 4096 + 128}, {13, 128 * 3 + 40}}) {
      const QuantizedLayer l = realistic_layer(s, rows, cols, seed + rows);
      expect_matches_portable(l, rng);
    }
}

}  // namespace
}  // namespace lutc::testing

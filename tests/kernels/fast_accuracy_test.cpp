// The fast paths against an fp64 reference (y = W_hat x in double from the
// golden decode), by NMSE = sum (y - ref)^2 / sum ref^2, printed every run.
//
// Bounds, and why:
//  - f32: fp32 products and sums, error ~ eps_f32 * sqrt(terms) per output
//    relative to the sum of |w x|; for K <= 4096 that is NMSE ~ 1e-12 even
//    with cancellation. The bound 1e-9 leaves three decades and still fails
//    on any real decode slip (one wrong code in a row gives ~1e-4).
//  - i8: two independent int8 roundings (the group's table and each block of
//    32 activations), each uniform with step amax/127: relative variance
//    c^2 / (3 * 127^2) = 2.1e-5 * c^2 for a crest factor c = amax/rms. Tables
//    and Student-t(4) activations have c ~ 2..4, so NMSE ~ 1e-4..7e-4 with
//    both roundings. Bound 3e-3 plus 10x the activation rounding's expected
//    NMSE for this very x (act_rounding_nmse): one large t(4) draw coarsens
//    its whole block of 32, and at batch 1 nothing averages that out (seen up
//    to 2e-3 over ~70k draws). A decode slip is far above either.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "kernel_schemes.h"
#include "kernel_test_util.h"
#include "lutc/kernels/cpu/gemv.h"
#include "lutc/model/quantize.h"
#include "lutc/model/synth.h"
#include "model/layer_samples.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

using kernels::Isa;
using kernels::Path;

constexpr double kF32Bound = 1e-9;
constexpr double kI8Bound = 3e-3;

// The NMSE that rounding x to int8 per block of 32 (step amax / 127, error
// uniform in +-step / 2) is expected to add: sum over vectors and columns of
// (sum over rows of w^2) * step^2 / 12, over sum ref^2. Blocks are taken from
// column 0; the kernels start them at each group (the same blocks for every
// layout here but a short last group), which changes little.
double act_rounding_nmse(const QuantizedLayer& l, const std::vector<float>& x, uint32_t batch,
                         const std::vector<double>& ref) {
  std::vector<float> w(size_t(l.rows) * l.cols);
  golden_decode(l, w.data());
  std::vector<double> col_w2(l.cols, 0.0);
  for (uint32_t r = 0; r < l.rows; ++r)
    for (uint32_t k = 0; k < l.cols; ++k) col_w2[k] += double(w[size_t(r) * l.cols + k]) * w[size_t(r) * l.cols + k];
  double num = 0, den = 0;
  for (uint32_t m = 0; m < batch; ++m)
    for (uint32_t k0 = 0; k0 < l.cols; k0 += 32) {
      const uint32_t k1 = std::min(l.cols, k0 + 32);
      double amax = 0;
      for (uint32_t k = k0; k < k1; ++k) amax = std::max(amax, double(std::fabs(x[size_t(m) * l.cols + k])));
      const double step = amax / 127;
      for (uint32_t k = k0; k < k1; ++k) num += col_w2[k] * step * step / 12;
    }
  for (double v : ref) den += v * v;
  return den > 0 ? num / den : 0;
}

void check_fast(const QuantizedLayer& l, std::mt19937_64& rng, const char* what) {
  const kernels::PackedLayer p = kernels::pack_layer(l);
  kernels::ThreadPool pool(2);
  // 6 = tiles of 4 and 2: every tile width runs; 8 is one tile of 8 where
  // the AVX-512 sop rows take it, 11 = 8 + 3 (tiles interleaved over row runs).
  for (uint32_t batch : {1u, 3u, 6u, 8u, 11u}) {
    const std::vector<float> x = random_activations(rng, size_t(batch) * l.cols);
    const std::vector<double> ref = reference_fp64(l, x, batch);
    const double i8_bound = kI8Bound + 10 * act_rounding_nmse(l, x, batch, ref);
    for (Isa isa : available_isas())
      for (Path path : {Path::kF32, Path::kI8}) {
        if (!kernels::path_supports(path, p)) continue;
        kernels::RunOptions opt;
        opt.isa = isa;
        opt.pool = &pool;
        std::vector<float> y = poisoned(size_t(batch) * l.rows);
        kernels::gemv_fast(path, p, x.data(), batch, y.data(), opt);
        const double e = nmse(ref, y);
        const double bound = path == Path::kF32 ? kF32Bound : i8_bound;
        std::printf("[ nmse     ] %-10s %-9s %dx%d b=%d batch %u %-8s %-3s %.3e (bound %.2e)\n", what,
                    scheme_name(l.scheme), int(l.rows), int(l.cols), int(l.bits), batch, kernels::isa_name(isa),
                    kernels::path_name(path), e, bound);
        EXPECT_LT(e, bound) << scheme_name(l.scheme) << " " << kernels::isa_name(isa) << " " << kernels::path_name(path)
                            << " batch " << batch;
      }
  }
}

class FastAccuracy : public ::testing::TestWithParam<Scheme> {};

TEST_P(FastAccuracy, SyntheticLlmShapedWeights) {
  const uint64_t seed = fresh_seed();
  std::mt19937_64 rng(seed);
  if (GetParam() != Scheme::kSop) {
    check_fast(realistic_layer(GetParam(), 96, 1024 + 64 + 19, seed), rng, "synth");
    return;
  }
  SynthSpec spec;
  spec.rows = 96;
  spec.cols = 1024 + 64 + 19;  // no block size divides it: a short last block
  spec.seed = seed;
  const std::vector<float> w = synth_matrix(spec);
  for (const std::string& f : sop_test_formats()) {
    SCOPED_TRACE(f);
    check_fast(sop_layer(f, "synth", w.data(), spec.rows, spec.cols), rng, f.c_str());
  }
}

// Random codebooks over the whole fp16 range and odd shapes: the f32 path
// must still be fp32-accurate (i8 is not meaningful on such tables).
TEST_P(FastAccuracy, F32OnRandomLayersWithOddShapes) {
  std::mt19937_64 rng(fresh_seed());
  for (int trial = 0; trial < 8; ++trial) {
    const QuantizedLayer l = random_kernel_layer(GetParam(), rng);
    const kernels::PackedLayer p = kernels::pack_layer(l);
    std::vector<float> w_hat(size_t(l.rows) * l.cols);
    golden_decode(l, w_hat.data());
    for (uint32_t batch : {1u, 3u, 6u, 8u, 11u}) {  // as check_fast
      const std::vector<float> x = random_activations(rng, size_t(batch) * l.cols);
      const std::vector<double> ref = reference_fp64(l, x, batch);
      for (Isa isa : available_isas()) {
        kernels::RunOptions opt;
        opt.isa = isa;
        std::vector<float> y = poisoned(size_t(batch) * l.rows);
        kernels::gemv_fast(Path::kF32, p, x.data(), batch, y.data(), opt);
        // Tiny random layers (one row, heavy cancellation) make NMSE a poor
        // yardstick; any summation order over the row's terms meets this bound.
        EXPECT_TRUE(within_summation_bound(l, w_hat, x, batch, ref, y,
                                           [&](uint32_t outliers) { return p.padded_cols() + outliers; }))
            << kernels::isa_name(isa) << " " << l.rows << "x" << l.cols << " b=" << int(l.bits) << " group " << l.group
            << " batch " << batch;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, FastAccuracy, ::testing::ValuesIn(kKernelSchemes), scheme_label);

}  // namespace
}  // namespace lutc::testing

// The exact path against model/'s golden decode and golden GEMV, bit for bit:
// every scheme, batch sizes 1/3/8, both activation widths, every instruction
// set this machine has (forced one at a time), odd shapes, NaN-poisoned
// outputs, fresh random layers and activations each run.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernel_schemes.h"
#include "kernel_test_util.h"
#include "lutc/kernels/cpu/gemv.h"
#include "lutc/model/golden.h"
#include "model/layer_samples.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

using kernels::Isa;

void check_exact(const QuantizedLayer& l, std::mt19937_64& rng, kernels::ThreadPool* pool = nullptr) {
  const kernels::PackedLayer p = kernels::pack_layer(l);
  std::vector<float> w_golden(l.elements());
  golden_decode(l, w_golden.data());
  for (Isa isa : available_isas()) {
    SCOPED_TRACE(std::string("isa ") + kernels::isa_name(isa));
    kernels::RunOptions opt;
    opt.isa = isa;
    opt.pool = pool;
    std::vector<float> w = poisoned(l.elements());
    kernels::decode_exact(p, 0, l.rows, w.data(), opt);
    ASSERT_TRUE(same_bits(w_golden, w, l.cols)) << "decode of " << scheme_name(l.scheme);
    for (uint32_t batch : {1u, 3u, 8u})
      for (unsigned act_bits : {8u, 16u}) {
        SCOPED_TRACE("batch " + std::to_string(batch) + ", act_bits " + std::to_string(act_bits));
        const std::vector<float> x = random_activations(rng, size_t(batch) * l.cols);
        GemvConfig cfg;
        cfg.act_bits = act_bits;
        std::vector<float> want = poisoned(size_t(batch) * l.rows), got = poisoned(size_t(batch) * l.rows);
        golden_gemv(l, x.data(), batch, cfg, want.data());
        kernels::gemv_exact(p, x.data(), batch, cfg, got.data(), opt);
        ASSERT_TRUE(same_bits(want, got, l.rows))
            << scheme_name(l.scheme) << " " << l.rows << "x" << l.cols << " b=" << int(l.bits) << " group " << l.group;
      }
  }
}

// Values in a narrow range, as quantizers produce: integer weights stay under
// 2^59, where the AVX-512 exact kernel splits them into 15-bit limbs (wider
// ranges, as random_layer makes, take the scalar path).
QuantizedLayer bounded_layer(Scheme s, std::mt19937_64& rng, SampleOptions o) {
  QuantizedLayer l = random_kernel_layer(s, rng, o);
  if (s == Scheme::kSop) l.layer_scale_exp = 0;  // block scales alone span 2^-10..496
  std::uniform_real_distribution<float> u(-2.0f, 2.0f), scale(1e-3f, 1e-1f);
  for (auto& h : l.codebooks)
    if (s != Scheme::kNf4B64) h = float_to_half(u(rng));
  // 6-bit sop: half the layers sign-symmetric (FP6 E2M3's shape, which the AVX-512 exact kernel serves
  // with half-size tables).
  if (s == Scheme::kSop && l.bits == 6 && rng() % 2)
    for (size_t b = 0; b < l.codebooks.size(); b += 64)
      for (unsigned c = 0; c < 32; ++c) l.codebooks[b + c + 32] = uint16_t(l.codebooks[b + c] ^ 0x8000);
  for (auto& h : l.group_scales) h = float_to_half(scale(rng));
  for (auto& h : l.outliers.val) h = float_to_half(u(rng));
  return l;
}

class ExactParity : public ::testing::TestWithParam<Scheme> {};

TEST_P(ExactParity, BoundedRangeLayersOddShapes) {
  std::mt19937_64 rng(fresh_seed());
  const uint32_t shapes[][2] = {{1, 4096}, {13, 1}, {17, 64 * 5 + 32}, {33, 300}, {8, 128 * 40 + 1}};
  // 4-bit codes for every scheme; 6-bit where the scheme has them (the AVX-512 6-bit exact kernel).
  const bool has6 = GetParam() == Scheme::kSop || GetParam() == Scheme::kXfpV2 || GetParam() == Scheme::kXfpV2a;
  for (const unsigned bits : {4u, 6u}) {
    if (bits == 6 && !has6) continue;
    for (const auto& sh : shapes) {
      SampleOptions o;
      o.rows = sh[0];
      o.cols = sh[1];
      o.bits = bits;
      o.outlier_fraction = sh[1] == 300 ? 0.5 : 0.02;
      const QuantizedLayer l = bounded_layer(GetParam(), rng, o);
      const kernels::PackedLayer p = kernels::pack_layer(l);
      ASSERT_LT(double(p.dense_abs_max) * std::ldexp(1.0, -p.weight_exp), std::ldexp(1.0, 59));
      check_exact(l, rng);
    }
  }
}

TEST_P(ExactParity, RandomLayers) {
  std::mt19937_64 rng(fresh_seed());
  for (int trial = 0; trial < 12; ++trial) check_exact(random_kernel_layer(GetParam(), rng), rng);
}

TEST_P(ExactParity, ShortFinalGroupAndWideRows) {
  std::mt19937_64 rng(fresh_seed());
  SampleOptions o;
  o.rows = 37;
  o.cols = 128 * 3 + 45;  // every group size (8..128, the row) leaves a short last group
  o.bits = 4;
  check_exact(random_kernel_layer(GetParam(), rng, o), rng);
  o.bits = 0;  // any width the scheme allows
  check_exact(random_kernel_layer(GetParam(), rng, o), rng);
}

TEST_P(ExactParity, OutlierHeavyRows) {
  std::mt19937_64 rng(fresh_seed());
  SampleOptions o;
  o.rows = 9;
  o.cols = 300;
  o.outlier_fraction = 0.6;
  check_exact(random_kernel_layer(GetParam(), rng, o), rng);
}

TEST_P(ExactParity, SingleRowAndSingleColumn) {
  std::mt19937_64 rng(fresh_seed());
  SampleOptions o;
  o.rows = 1;
  o.cols = 257;
  check_exact(random_kernel_layer(GetParam(), rng, o), rng);
  o.rows = 11;
  o.cols = 1;
  check_exact(random_kernel_layer(GetParam(), rng, o), rng);
}

TEST_P(ExactParity, ThreadsGiveTheSameBits) {
  std::mt19937_64 rng(fresh_seed());
  SampleOptions o;
  o.rows = 203;
  o.cols = 200;
  kernels::ThreadPool pool(3);
  check_exact(random_kernel_layer(GetParam(), rng, o), rng, &pool);
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, ExactParity, ::testing::ValuesIn(kKernelSchemes), scheme_label);

}  // namespace
}  // namespace lutc::testing

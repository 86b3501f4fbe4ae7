// KernelProjections (kernels/cpu/projections.h), one layer at a time: its
// products against the golden decode in fp64 within the fp32 summation bound
// (the f32 path's own check), its rows bit-identical to the golden decode,
// non-finite activations answered with the golden product, and the same bits
// on every call. Random layers of every scheme, fresh each run.
#include "lutc/kernels/cpu/projections.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "kernel_schemes.h"
#include "kernel_test_util.h"
#include "lutc/kernels/cpu/packed_layer.h"
#include "lutc/model/golden.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

class Projections : public ::testing::TestWithParam<Scheme> {};

RowMatrix random_rows(std::mt19937_64& rng, uint32_t rows, uint32_t cols) {
  const std::vector<float> v = random_activations(rng, size_t(rows) * cols);
  return Eigen::Map<const RowMatrix>(v.data(), rows, cols);
}

RowMatrix golden_weights(const QuantizedLayer& l) {
  RowMatrix w(Eigen::Index(l.rows), Eigen::Index(l.cols));
  golden_decode(l, w.data());
  return w;
}

TEST_P(Projections, ProductsAreTheDecodedWeightsTimesXWithinTheSummationBound) {
  std::mt19937_64 rng(fresh_seed());
  for (int trial = 0; trial < 12; ++trial) {
    SampleOptions so;
    so.rows = 1 + uint32_t(rng() % 90);
    so.cols = 1 + uint32_t(rng() % 400);
    const QuantizedLayer l = random_kernel_layer(GetParam(), rng, so);
    kernels::ProjectionOptions o;
    o.threads = 1 + unsigned(rng() % 3);
    o.isa = available_isas()[rng() % available_isas().size()];
    o.min_parallel_macs = rng() % 2 ? 0 : o.min_parallel_macs;  // the pool on every product, or the default
    const kernels::KernelProjections backend(o);
    const auto w = backend.prepare(l.name, l);
    ASSERT_EQ(w->rows(), l.rows);
    ASSERT_EQ(w->cols(), l.cols);
    EXPECT_EQ(w->resident_bytes(), kernels::pack_layer(l).memory_bytes());
    const uint32_t m = 1 + uint32_t(rng() % 9);
    const RowMatrix x = random_rows(rng, m, l.cols);
    const RowMatrix y = w->multiply(x);
    ASSERT_EQ(y.rows(), Eigen::Index(m));
    ASSERT_EQ(y.cols(), Eigen::Index(l.rows));
    const std::vector<float> xv(x.data(), x.data() + x.size()), yv(y.data(), y.data() + y.size());
    const RowMatrix wg = golden_weights(l);
    const std::vector<float> w_hat(wg.data(), wg.data() + wg.size());
    const kernels::PackedLayer p = kernels::pack_layer(l);
    EXPECT_TRUE(within_summation_bound(l, w_hat, xv, m, reference_fp64(l, xv, m), yv,
                                       [&](uint32_t outliers) { return p.padded_cols() + outliers; }))
        << kernels::isa_name(o.isa) << " " << l.rows << "x" << l.cols << " b=" << int(l.bits) << " batch " << m
        << " threads " << o.threads;
  }
}

TEST_P(Projections, RowsAreTheGoldenDecodeBitForBit) {
  std::mt19937_64 rng(fresh_seed());
  for (int trial = 0; trial < 8; ++trial) {
    const QuantizedLayer l = random_kernel_layer(GetParam(), rng);
    kernels::ProjectionOptions o;
    o.isa = available_isas()[rng() % available_isas().size()];
    const auto w = kernels::KernelProjections(o).prepare(l.name, l);  // the weight outlives the backend
    const RowMatrix want = golden_weights(l);
    const uint64_t r0 = rng() % l.rows, n = 1 + rng() % (l.rows - r0);
    std::vector<float> got = poisoned(n * l.cols);
    w->decode_rows(r0, n, got.data());
    const std::vector<float> rows(want.data() + r0 * l.cols, want.data() + (r0 + n) * l.cols);
    EXPECT_TRUE(same_bits(rows, got, l.cols)) << kernels::isa_name(o.isa);
  }
}

// The row kernels sum a tile of rows in another order than a lone row, and
// where tiles start depends on how the rows are split over threads, so the
// bits may change with the thread count (each stays within the bound above).
// For one thread count they are the same on every call and every backend:
// what makes streaming and in-memory runs agree bit for bit.
TEST_P(Projections, OneThreadCountGivesTheSameBitsEveryTime) {
  std::mt19937_64 rng(fresh_seed());
  SampleOptions so;
  so.rows = 64 + uint32_t(rng() % 200);
  so.cols = 32 + uint32_t(rng() % 300);
  const QuantizedLayer l = random_kernel_layer(GetParam(), rng, so);
  const RowMatrix x = random_rows(rng, 1 + uint32_t(rng() % 9), l.cols);
  kernels::ProjectionOptions o;
  o.threads = 1 + unsigned(rng() % 4);
  o.min_parallel_macs = 0;
  const auto a = kernels::KernelProjections(o).prepare(l.name, l);
  const RowMatrix want = a->multiply(x);
  EXPECT_TRUE(a->multiply(x) == want);
  EXPECT_TRUE(kernels::KernelProjections(o).prepare(l.name, l)->multiply(x) == want) << o.threads << " threads";
}

// The kernels refuse non-finite activations; a model whose weights overflow
// float arithmetic still gets its products, computed as the golden path does.
TEST_P(Projections, NonFiniteActivationsGetTheGoldenProduct) {
  std::mt19937_64 rng(fresh_seed());
  const QuantizedLayer l = random_kernel_layer(GetParam(), rng);
  RowMatrix x = random_rows(rng, 1 + uint32_t(rng() % 4), l.cols);
  const float bad[] = {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                       std::numeric_limits<float>::quiet_NaN()};
  x(Eigen::Index(rng() % x.rows()), Eigen::Index(rng() % x.cols())) = bad[rng() % 3];
  const RowMatrix w = golden_weights(l);
  const RowMatrix want = x * w.transpose();
  const RowMatrix got = kernels::KernelProjections().prepare(l.name, l)->multiply(x);
  const std::vector<float> a(want.data(), want.data() + want.size()), b(got.data(), got.data() + got.size());
  EXPECT_TRUE(same_bits(a, b, l.rows));
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, Projections, ::testing::ValuesIn(kKernelSchemes), scheme_label);

TEST(ProjectionsBackend, NamesItselfAndCountsItsThreads) {
  kernels::ProjectionOptions o;
  o.threads = 3;
  const kernels::KernelProjections b(o);
  EXPECT_EQ(b.name(), "kernels");
  EXPECT_EQ(b.threads(), 3u);
  EXPECT_GE(kernels::KernelProjections().threads(), 1u);  // 0: every core
}

}  // namespace
}  // namespace lutc::testing

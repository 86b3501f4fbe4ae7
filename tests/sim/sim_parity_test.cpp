// y from the SystemC model against the golden GEMV (of the HIF weights; of the
// layer itself with lossless HIF) and the executor, bit for bit, for every
// scheme: awkward shapes, batches, lossy HIF and an engine small enough that
// layers split into many double-buffered tiles. The model's y starts as NaN,
// so a row it never stores fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>

#include "compiler_test_layers.h"
#include "lutc/compiler/executor.h"
#include "lutc/compiler/layer_luts.h"
#include "lutc/model/fp16.h"
#include "lutc/model/golden.h"
#include "sim_test_support.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace testing;

struct Case {
  QuantizedLayer layer;
  std::shared_ptr<const Program> program;
  std::vector<float> x;
  uint32_t job;
};

void expect_bit_exact(const Case& c, const ArchConfig& arch, uint32_t batch, const std::vector<float>& got) {
  const QuantizedLayer& l = c.layer;
  GemvConfig cfg;
  cfg.act_bits = arch.act_bits;
  const std::vector<float> w = hif_weights(l, HifFormat{arch.hif_mant_bits, arch.hif_shift_bits});
  std::vector<float> want(size_t(batch) * l.rows, std::numeric_limits<float>::quiet_NaN());
  golden_gemv_weights(w.data(), l.rows, l.cols, c.x.data(), batch, cfg, want.data());
  std::vector<float> exec(want.size(), std::numeric_limits<float>::quiet_NaN());
  execute(*c.program, c.x.data(), batch, exec.data());
  if (arch.hif_mant_bits == 11 && arch.hif_shift_bits == 5) {
    std::vector<float> golden(want.size(), std::numeric_limits<float>::quiet_NaN());
    golden_gemv(l, c.x.data(), batch, cfg, golden.data());
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(float_bits(golden[i]), float_bits(want[i])) << i;
  }
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(float_bits(got[i]), float_bits(want[i]))
        << scheme_name(l.scheme) << " " << l.rows << "x" << l.cols << " batch " << batch << " element " << i << ": sim "
        << got[i] << " golden " << want[i];
    ASSERT_EQ(float_bits(got[i]), float_bits(exec[i])) << "element " << i;
  }
}

class SimParity : public ::testing::TestWithParam<Scheme> {};

TEST_P(SimParity, BitExactAgainstGoldenAndExecutor) {
  std::mt19937_64 rng(fresh_seed());
  const ArchConfig small =
      arch_with({"core.lanes=4", "lut.banks=2", "lut.bank_words=256", "hif.mant_bits=9", "hif.shift_bits=4",
                 "act.bits=8", "sram.weight_kib=1", "sram.act_kib=1", "core.acc_bits=64"});
  const ArchConfig archs[] = {default_arch(), small};
  const uint32_t batches[] = {2, 1};
  struct Shape {
    uint32_t rows, cols, group;
  };
  const Shape shapes[] = {{1, 1, 0}, {7, 300, 128}, {33, 130, 0}, {37, 700, 128}};
  std::vector<Case> cases;
  std::vector<sim::SimJob> jobs;
  for (uint32_t a = 0; a < 2; ++a) {
    std::vector<sim::SimLayer> layers;
    for (const Shape& s : shapes) {
      const std::vector<float> w = random_weights(s.rows, s.cols, rng);
      Case c;
      c.layer = quantize_for_test(GetParam(), "rand", w.data(), s.rows, s.cols, s.group);
      c.program = compile_for(c.layer, archs[a]);
      c.x = random_activations(batches[a], s.cols, rng);
      c.job = a;
      layers.push_back(layer_of(c.program, c.x));
      cases.push_back(std::move(c));
    }
    jobs.push_back(job_of(archs[a], std::move(layers), batches[a]));
  }
  const std::vector<sim::SimResult> results = simulate_jobs(std::move(jobs));
  size_t next[2] = {0, 0};
  for (const Case& c : cases) {
    const sim::LayerResult& r = results[c.job].layers[next[c.job]++];
    expect_bit_exact(c, archs[c.job], batches[c.job], r.y);
    EXPECT_GT(r.stats.cycles, 0u);
  }
}

// A matrix spanning more than 62 bits: SOP weights around 2^111 (the layer
// scale clamped at 2^100) and one outlier of 1.0 where the dense code is 0.
// The golden GEMV's Ew then puts the largest weights' msb at bit 62, so their
// integers lie in [2^62, 2^63): inside the weight rule's bound
// (docs/numerics.md §4.2). The executor, the golden GEMV and the RTL accept
// them; the SystemC lanes must compute the same y.
TEST(SimParityEdge, IntegerWeightsAt2To62) {
  std::mt19937_64 rng(fresh_seed());
  const ArchConfig wide_lossy = arch_with({"hif.mant_bits=13", "hif.shift_bits=6"});
  const uint32_t rows = 6, cols = 90;
  std::vector<float> w = random_weights(rows, cols, rng);
  for (float& v : w) v = std::ldexp(v, 116);
  w[0] = 0;  // code 0 decodes to exactly 0
  Case c;
  c.layer = quantize_sop_for_test("e2m3.ue4m4.b8", "wide", w.data(), rows, cols);
  ASSERT_EQ(c.layer.layer_scale_exp, 100);
  std::vector<float> dense(size_t(rows) * cols);
  golden_decode(c.layer, dense.data());
  ASSERT_EQ(dense[0], 0.0f);
  OutlierCsr& o = c.layer.outliers;
  o.row_ptr.assign(rows + 1, 1);
  o.row_ptr[0] = 0;
  o.col = {0};
  o.val = {float_to_half(1.0f)};
  // The case reaches the edge: some weight's integer is at least 2^62.
  const std::vector<float> hw = hif_weights(c.layer, HifFormat{13, 6});
  WeightExponent e;
  for (float v : hw) e.add(v);
  uint64_t largest = 0;
  for (float v : hw) largest = std::max<uint64_t>(largest, uint64_t(std::llabs(weight_to_int(v, e.ew()))));
  ASSERT_GE(largest, uint64_t(1) << 62) << "Ew " << e.ew() << ", msb " << e.max_msb << ", lsb " << e.min_lsb;
  c.program = compile_for(c.layer, wide_lossy);
  c.x = random_activations(2, cols, rng);
  std::vector<sim::SimJob> jobs;
  jobs.push_back(job_of(wide_lossy, {layer_of(c.program, c.x)}, 2));
  const std::vector<sim::SimResult> results = simulate_jobs(std::move(jobs));
  expect_bit_exact(c, wide_lossy, 2, results[0].layers[0].y);
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, SimParity, ::testing::ValuesIn(compiled_schemes()), [](const auto& info) {
  std::string n = scheme_name(info.param);
  for (char& ch : n)
    if (ch == '.') ch = '_';
  return n;
});

}  // namespace
}  // namespace lutc

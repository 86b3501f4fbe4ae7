// The executor against the golden GEMV, bit for bit: every scheme, awkward
// shapes, batches, real weights, lossless and lossy HIF, small SRAMs that
// force many tiles. Output buffers start as NaN so an unwritten element fails.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>

#include "compiler_test_layers.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/executor.h"
#include "lutc/compiler/layer_luts.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "lutc/model/quantize.h"
#include "lutc/model/weights.h"
#include "parity_check.h"
#include "test_data.h"

namespace lutc {
namespace {

using testing::arch_with;
using testing::bits_of;
using testing::compiled_schemes;
using testing::expect_parity;
using testing::quantize_for_test;
using testing::random_weights;

struct Shape {
  uint32_t rows, cols, v2_group;
};
const Shape kShapes[] = {{1, 1, 0}, {1, 300, 128}, {7, 1, 0}, {5, 200, 64}, {33, 130, 0}, {70, 257, 128}};

class ExecutorParity : public ::testing::TestWithParam<Scheme> {};

TEST_P(ExecutorParity, AwkwardShapesDefaultArch) {
  std::mt19937_64 rng(testing::fresh_seed());
  for (const Shape& s : kShapes) {
    const std::vector<float> w = random_weights(s.rows, s.cols, rng);
    const QuantizedLayer l = quantize_for_test(GetParam(), "rand", w.data(), s.rows, s.cols, s.v2_group);
    for (uint32_t batch : {1u, 3u}) expect_parity(l, default_arch(), batch, rng);
  }
}

TEST_P(ExecutorParity, ManySmallTilesEdgeArch) {
  // A tiny engine: few lanes, small LUT and SRAMs, 8-bit activations and a
  // lossy 9/4 HIF, so the layer splits into many double-buffered tiles.
  std::mt19937_64 rng(testing::fresh_seed());
  const ArchConfig arch =
      arch_with({"core.lanes=4", "lut.banks=2", "lut.bank_words=256", "hif.mant_bits=9", "hif.shift_bits=4",
                 "act.bits=8", "sram.weight_kib=1", "sram.act_kib=1", "core.acc_bits=64"});
  const std::vector<float> w = random_weights(37, 700, rng);
  const QuantizedLayer l = quantize_for_test(GetParam(), "rand", w.data(), 37, 700, 128);
  CompileReport rep;
  compile_layer(l, arch, &rep);
  EXPECT_GT(rep.plan.tiles(), 10u);
  for (uint32_t batch : {1u, 2u}) expect_parity(l, arch, batch, rng);
}

TEST_P(ExecutorParity, Stories260K) {
  const std::string path = testing::shared_data("stories260K/stories260K.safetensors");
  if (!testing::require_file(path)) return;
  std::mt19937_64 rng(testing::fresh_seed());
  const auto wf = WeightFile::open(path);
  int done = 0;
  for (const TensorInfo& t : wf->tensors()) {
    // Every projection of the first block: 64x64, 32x64, 172x64 and 64x172 (K not a multiple of 64 or 128).
    if (!t.is_matrix() || t.name.find("layers.0.") == std::string::npos) continue;
    const std::vector<float> w = wf->read_all(t);
    const QuantizedLayer l = quantize_for_test(GetParam(), t.name, w.data(), uint32_t(t.rows()), uint32_t(t.cols()));
    expect_parity(l, default_arch(), 2, rng);
    expect_parity(l, arch_with({"hif.mant_bits=6", "hif.shift_bits=3", "act.bits=8"}), 1, rng);
    ++done;
  }
  EXPECT_GT(done, 0) << "no stories260K matrices matched";
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, ExecutorParity, ::testing::ValuesIn(compiled_schemes()), [](const auto& info) {
  std::string n = scheme_name(info.param);
  for (char& c : n)
    if (c == '.') c = '_';
  return n;
});

TEST(ExecutorParityEdge, AllZeroLayerAndZeroActivations) {
  QuantizedLayer l;
  l.name = "zeros";
  l.rows = 3;
  l.cols = 5;
  l.scheme = Scheme::kXfpV2;
  l.bits = 2;
  l.group = 5;
  l.indices.assign(4, 0);
  l.codebooks.assign(3 * 4, 0);
  const Program p = compile_layer(l, default_arch());
  std::vector<float> x(5, 1.0f), y(3, std::numeric_limits<float>::quiet_NaN());
  execute(p, x.data(), 1, y.data());
  for (float v : y) EXPECT_EQ(bits_of(v), 0u);
}

TEST(ExecutorParityEdge, SopLayerMatchesGolden) {
  // A tiny sop layer through every stage: two books (pair), negated blocks
  // (signed scale), a short last block (K = 21, B = 16) and outliers.
  std::mt19937_64 rng(testing::fresh_seed());
  const std::vector<float> w = random_weights(3, 21, rng);
  const QuantizedLayer l = testing::quantize_sop_for_test(testing::kSopTestFormat, "blk.0.sop", w.data(), 3, 21);
  ASSERT_EQ(l.scheme, Scheme::kSop);
  for (uint32_t batch : {1u, 3u}) {
    expect_parity(l, default_arch(), batch, rng);
    expect_parity(l, arch_with({"hif.mant_bits=5", "hif.shift_bits=3", "act.bits=8"}), batch, rng);
  }
}

}  // namespace
}  // namespace lutc

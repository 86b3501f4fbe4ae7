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
#include "test_data.h"

namespace lutc {
namespace {

using testing::arch_with;
using testing::compiled_schemes;
using testing::quantize_for_test;
using testing::random_weights;

std::vector<float> random_x(uint32_t batch, uint32_t cols, std::mt19937_64& rng) {
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> x(size_t(batch) * cols);
  for (auto& v : x) v = n(rng);
  if (!x.empty()) x[0] = 0;  // an exact zero activation
  return x;
}

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Compiles, round-trips through bytes (the reader is part of the path), runs,
// and compares with the reference for the arch's HIF.
void expect_parity(const QuantizedLayer& l, const ArchConfig& arch, uint32_t batch, std::mt19937_64& rng) {
  const Program compiled = compile_layer(l, arch);
  const std::vector<uint8_t> bytes = serialize_lutp(compiled);
  const Program p = parse_lutp(bytes.data(), bytes.size(), "mem.lutp");
  const std::vector<float> x = random_x(batch, l.cols, rng);
  std::vector<float> got(size_t(batch) * l.rows, std::numeric_limits<float>::quiet_NaN());
  std::vector<float> want(size_t(batch) * l.rows, std::numeric_limits<float>::quiet_NaN());
  execute(p, x.data(), batch, got.data());
  GemvConfig cfg;
  cfg.act_bits = arch.act_bits;
  const HifFormat hif{arch.hif_mant_bits, arch.hif_shift_bits};
  const std::vector<float> w = hif_weights(l, hif);
  golden_gemv_weights(w.data(), l.rows, l.cols, x.data(), batch, cfg, want.data());
  if (arch.hif_mant_bits == 11 && arch.hif_shift_bits == 5) {
    // Lossless HIF: the reference is the golden GEMV of the layer itself.
    std::vector<float> golden(want.size(), std::numeric_limits<float>::quiet_NaN());
    golden_gemv(l, x.data(), batch, cfg, golden.data());
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(bits_of(golden[i]), bits_of(want[i])) << "element " << i;
  }
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(bits_of(got[i]), bits_of(want[i]))
        << scheme_name(l.scheme) << " " << l.rows << "x" << l.cols << " batch " << batch << " element " << i
        << ": executor " << got[i] << " golden " << want[i];
}

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
  const ArchConfig arch = arch_with({"core.lanes=4", "lut.banks=2", "lut.bank_words=256", "hif.mant_bits=9",
                                     "hif.shift_bits=4", "act.bits=8", "sram.weight_kib=1", "sram.act_kib=1",
                                     "core.acc_bits=64"});
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

INSTANTIATE_TEST_SUITE_P(AllSchemes, ExecutorParity, ::testing::ValuesIn(compiled_schemes()),
                         [](const auto& info) {
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

TEST(ExecutorParityEdge, SopIsNotSupportedYet) {
  QuantizedLayer l;
  l.name = "blk.0.sop";
  l.scheme = Scheme::kSop;
  l.rows = l.cols = 1;
  try {
    layer_lut_values(l);
    FAIL() << "sop lowered";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("not supported"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("blk.0.sop"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lutc

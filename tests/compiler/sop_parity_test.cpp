// SOP layers through the compiler and the executor, bit for bit against the
// golden GEMV: named formats (single books, pairs with DD4, signed scales,
// 4- and 6-bit codes, outliers, blocks of 8 to 64), K not a multiple of the
// block, N = 1 and K = 1, batches 1 and 3, lossless HIF and the lossy edge
// arch, extreme layer scales, and stories260K's real matrices.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <random>
#include <string>

#include "compiler_test_layers.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/model/sop.h"
#include "lutc/model/weights.h"
#include "parity_check.h"
#include "test_data.h"

namespace lutc {
namespace {

using testing::expect_parity;
using testing::quantize_sop_for_test;
using testing::random_weights;

ArchConfig edge_arch() { return load_arch(std::string(LUTC_EXAMPLES_ARCH) + "/edge.ini"); }

// A tiny engine that splits a layer into many double-buffered tiles, with a
// lossy 9/4 HIF and 8-bit activations.
ArchConfig many_tiles_arch() {
  return testing::arch_with({"core.lanes=4", "lut.banks=2", "lut.bank_words=256", "hif.mant_bits=9", "hif.shift_bits=4",
                             "act.bits=8", "sram.weight_kib=1", "sram.act_kib=1", "core.acc_bits=64"});
}

std::string test_name(const std::string& format) {
  std::string n;
  for (char c : format) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return n;
}

const char* const kFormats[] = {
    "e2m3.ue4m4.b16",            // FP6 + UE4M4, the headline point
    "e2m1.ue4m3.b16",            // NVFP4-like, 7-bit scale
    "pair(nf4,dd4).sue4m4.b16",  // pair with the learned book, signed scale
    "pair(nf4,dd4).ue4m3.b8",    // UE4M3+sel, blocks of 8
    "pair(split87,dd4).sue4m2.b16",
    "split87.sue4m3.b16",  // signed scale without a pair
    "e2m1.ue4m3.b16+o1",   // outliers
    "pair(nf4,dd4).ue4m3.b32+o1",
    "e2m3.ue4m4.b64",
    "int6.ue4m4.b32",
    "pair(auto).ue4m3.b16",
};

class SopParity : public ::testing::TestWithParam<const char*> {};

TEST_P(SopParity, AwkwardShapesLosslessAndEdge) {
  std::mt19937_64 rng(testing::fresh_seed());
  const ArchConfig edge = edge_arch();
  struct Shape {
    uint32_t rows, cols;
  };
  // K = 1, N = 1, and K not a multiple of any block size (77, 130, 200).
  for (const Shape s : {Shape{1, 1}, Shape{1, 300}, Shape{7, 1}, Shape{5, 200}, Shape{33, 130}, Shape{4, 77}}) {
    const std::vector<float> w = random_weights(s.rows, s.cols, rng);
    const QuantizedLayer l = quantize_sop_for_test(GetParam(), "rand", w.data(), s.rows, s.cols);
    ASSERT_EQ(l.scheme, Scheme::kSop);
    for (uint32_t batch : {1u, 3u}) {
      expect_parity(l, default_arch(), batch, rng);
      if (::testing::Test::HasFatalFailure()) return;
      expect_parity(l, edge, batch, rng);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

TEST_P(SopParity, ManySmallTiles) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::vector<float> w = random_weights(37, 700, rng);
  const QuantizedLayer l = quantize_sop_for_test(GetParam(), "rand", w.data(), 37, 700);
  CompileReport rep;
  compile_layer(l, many_tiles_arch(), &rep);
  EXPECT_GT(rep.plan.tiles(), 10u);
  for (uint32_t batch : {1u, 3u}) expect_parity(l, many_tiles_arch(), batch, rng);
}

INSTANTIATE_TEST_SUITE_P(NamedFormats, SopParity, ::testing::ValuesIn(kFormats),
                         [](const auto& info) { return test_name(info.param); });

TEST(SopParityEdge, ExtremeLayerScales) {
  // Weights around 2^-120 and 2^+116 push layer_scale_exp to its clamps
  // (-100, +100): the power of two folded into the LUT base must stay exact,
  // tiny products land in the fp32 subnormal range.
  std::mt19937_64 rng(testing::fresh_seed());
  // edge.ini's narrow HIF and 8-bit activations run here with the default
  // 96-bit accumulator. (The scales keep each matrix within about 30 bits of
  // dynamic range; tests/sim's SimParityEdge.IntegerWeightsAt2To62 builds
  // one whose integer weights reach 2^62.)
  const ArchConfig wide_lossy = testing::arch_with({"hif.mant_bits=13", "hif.shift_bits=6"});
  const ArchConfig edge_hif = testing::arch_with({"hif.mant_bits=9", "hif.shift_bits=4", "act.bits=8"});
  for (int shift : {-120, -60, 60, 116}) {
    std::vector<float> w = random_weights(6, 90, rng);
    for (float& v : w) v = std::ldexp(v, shift);
    for (const char* f : {"pair(nf4,dd4).sue4m4.b16+o1", "e2m3.ue4m4.b8"}) {
      const QuantizedLayer l = quantize_sop_for_test(f, "scaled", w.data(), 6, 90);
      if (shift == -120) {
        EXPECT_EQ(l.layer_scale_exp, -100) << f;
      }
      if (shift == 116) {
        EXPECT_EQ(l.layer_scale_exp, 100) << f;
      }
      for (uint32_t batch : {1u, 3u}) {
        expect_parity(l, default_arch(), batch, rng);
        expect_parity(l, wide_lossy, batch, rng);
        expect_parity(l, edge_hif, batch, rng);
      }
    }
  }
}

TEST(SopParityEdge, Stories260K) {
  const std::string path = testing::shared_data("stories260K/stories260K.safetensors");
  if (!testing::require_file(path)) return;
  std::mt19937_64 rng(testing::fresh_seed());
  const auto wf = WeightFile::open(path);
  int done = 0;
  for (const TensorInfo& t : wf->tensors()) {
    // The first block's projections: 64x64, 32x64, 172x64, 64x172.
    if (!t.is_matrix() || t.name.find("layers.0.") == std::string::npos) continue;
    const std::vector<float> w = wf->read_all(t);
    for (const char* f : {"e2m3.ue4m4.b16", "pair(nf4,dd4).sue4m4.b16+o1", "e2m1.ue4m3.b32"}) {
      const QuantizedLayer l = quantize_sop_for_test(f, t.name, w.data(), uint32_t(t.rows()), uint32_t(t.cols()));
      expect_parity(l, default_arch(), 3, rng);
      expect_parity(l, edge_arch(), 1, rng);
    }
    ++done;
  }
  EXPECT_GT(done, 0) << "no stories260K matrices matched";
}

}  // namespace
}  // namespace lutc

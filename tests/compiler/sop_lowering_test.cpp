// How a sop layer is expressed with the existing LUT_LOAD / DMA_IN /
// DECODE_MAC / OUTLIER fields (docs/hif.md "What a LUT holds"): the
// selection bit is the metadata book id, the signed UE4Mx scale is the fp16
// block scale, 2^layer_scale_exp sits in the LUT bases. Plus the HIF error
// report for sop layers.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compiler_test_layers.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/layer_luts.h"
#include "lutc/model/fp16.h"
#include "lutc/model/golden.h"
#include "lutc/model/sop_scale.h"
#include "test_data.h"

namespace lutc {
namespace {

using isa::CfgReg;

int32_t cfg_value(const Program& p, CfgReg reg) {
  for (const isa::Instruction& in : p.code)
    if (in.op == isa::Op::CFG && in.f[0] == uint32_t(reg)) return int32_t(in.f[1]);
  ADD_FAILURE() << "no CFG for register " << uint32_t(reg);
  return -1;
}

QuantizedLayer sop_layer(const char* format, uint32_t rows, uint32_t cols, std::mt19937_64& rng) {
  const std::vector<float> w = testing::random_weights(rows, cols, rng);
  return testing::quantize_sop_for_test(format, "blk.0.sop", w.data(), rows, cols);
}

TEST(SopLowering, EveryUeScaleIsExactInFp16) {
  for (unsigned m = 2; m <= 4; ++m)
    for (unsigned c = 0; c < ue_code_count(m); ++c) {
      const float v = ue_value(c, m);
      EXPECT_EQ(half_to_float(float_to_half(v)), v) << "UE4M" << m << " code " << c;
    }
}

TEST(SopLowering, SingleBookUsesTheFixedBookAndAScaleRecord) {
  std::mt19937_64 rng(testing::fresh_seed());
  const QuantizedLayer l = sop_layer("e2m3.ue4m4.b16", 9, 100, rng);
  const Program p = compile_layer(l, default_arch());
  EXPECT_EQ(cfg_value(p, CfgReg::BOOK_SELECT), int32_t(BookSelect::kFixed));
  EXPECT_EQ(cfg_value(p, CfgReg::META), int32_t(kMetaScale));
  EXPECT_EQ(cfg_value(p, CfgReg::GROUP), 16);
  ASSERT_EQ(p.lut_image.size(), 1u);
  // E2M3's largest entry 7.5 has msb 2: lossless base 2 - 10, moved by the layer's power of two.
  EXPECT_EQ(p.lut_image[0].base, 2 - 10 + l.layer_scale_exp);
  // One 2-byte record per (row, block): ceil(100 / 16) = 7 blocks per row.
  EXPECT_EQ(p.segments[uint32_t(isa::Segment::META)].size(), 9u * 7 * 2);
}

TEST(SopLowering, PairUsesTheSelectionBitAsBookId) {
  std::mt19937_64 rng(testing::fresh_seed());
  const QuantizedLayer l = sop_layer("pair(nf4,dd4).ue4m3.b16", 12, 160, rng);
  const Program p = compile_layer(l, default_arch());
  EXPECT_EQ(cfg_value(p, CfgReg::BOOK_SELECT), int32_t(BookSelect::kById));
  EXPECT_EQ(cfg_value(p, CfgReg::META), int32_t(kMetaIdScale));
  ASSERT_EQ(p.lut_image.size(), 2u);
  // Record (id, pad, scale) of block i is (sel, 0, |UE value| in fp16); one tile here.
  const std::vector<uint8_t>& meta = p.segments[uint32_t(isa::Segment::META)];
  ASSERT_EQ(meta.size(), size_t(12) * 10 * 4);
  for (size_t i = 0; i < l.block_scales.size(); ++i) {
    const SopScaleCode c = unpack_sop_scale(l.block_scales[i], 3, true, false);
    EXPECT_EQ(meta[4 * i], c.sel);
    EXPECT_EQ(meta[4 * i + 1], 0);
    EXPECT_EQ(half_to_float(uint16_t(meta[4 * i + 2] | meta[4 * i + 3] << 8)), ue_value(c.magnitude, 3));
  }
}

TEST(SopLowering, SignedScaleIsTheFp16ScaleSign) {
  std::mt19937_64 rng(testing::fresh_seed());
  // split87 is asymmetric, so the encoder negates some blocks.
  const QuantizedLayer l = sop_layer("split87.sue4m3.b16", 16, 256, rng);
  const Program p = compile_layer(l, default_arch());
  EXPECT_EQ(cfg_value(p, CfgReg::META), int32_t(kMetaScale));
  const std::vector<uint8_t>& meta = p.segments[uint32_t(isa::Segment::META)];
  ASSERT_EQ(meta.size(), l.block_scales.size() * 2);
  size_t negated = 0;
  for (size_t i = 0; i < l.block_scales.size(); ++i) {
    const SopScaleCode c = unpack_sop_scale(l.block_scales[i], 3, false, true);
    EXPECT_EQ(meta[2 * i + 1] >> 7, c.sign) << "block " << i;
    negated += c.sign;
  }
  EXPECT_GT(negated, 0u) << "no block chose the negated codebook; the test covers nothing";
}

TEST(SopLowering, HifErrorReport) {
  std::mt19937_64 rng(testing::fresh_seed());
  const QuantizedLayer l = sop_layer("pair(nf4,dd4).sue4m4.b16+o1", 24, 200, rng);
  const HifFormat lossless{11, 5};
  const HifErrorReport exact = measure_hif_error(l, lower_layer_luts(l, lossless), lossless);
  EXPECT_TRUE(exact.lossless());
  EXPECT_EQ(exact.total_entries, 32u);
  EXPECT_EQ(exact.max_abs_error, 0.0);
  EXPECT_TRUE(std::isinf(exact.sqnr_db) && exact.sqnr_db > 0);

  // A narrow HIF rounds the learned DD4 book; the report must measure exactly
  // W_hif against the golden decode.
  const HifFormat narrow{4, 3};
  const HifErrorReport r = measure_hif_error(l, lower_layer_luts(l, narrow), narrow);
  EXPECT_GT(r.changed_entries, 0u);
  const std::vector<float> w_hif = hif_weights(l, narrow);
  std::vector<float> w(size_t(l.elements()));
  golden_decode(l, w.data());
  double max_err = 0, sig = 0, noise = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const double d = double(w_hif[i]) - w[i];
    max_err = std::max(max_err, std::fabs(d));
    sig += double(w[i]) * w[i];
    noise += d * d;
  }
  EXPECT_GT(max_err, 0.0);
  EXPECT_EQ(r.max_abs_error, max_err);
  EXPECT_NEAR(r.sqnr_db, 10 * std::log10(sig / noise), 1e-9);
  EXPECT_GT(r.sqnr_db, 10.0);
  CompileReport rep;
  compile_layer(l, testing::arch_with({"hif.mant_bits=4", "hif.shift_bits=3"}), &rep);
  EXPECT_EQ(rep.hif.max_abs_error, max_err);
}

}  // namespace
}  // namespace lutc

// pack_layer's code layout, checked code by code against the container: every
// element's code sits where packed_code_at() looks for it,
// padding holds code 0, and sop blocks of 8 and 16 take the dense layout (no
// per-group padding), so their index bytes are the format's own bits. sop
// block scale codes take one byte each exactly when the format's code fits.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "kernel_schemes.h"
#include "kernel_test_util.h"
#include "lutc/kernels/cpu/packed_layer.h"
#include "lutc/model/bitpack.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

using kernels::PackedLayer;

// Every code of l at its padded coordinate in p; every padding slot holds 0.
void expect_codes_in_place(const QuantizedLayer& l, const PackedLayer& p) {
  std::vector<uint8_t> row(l.cols);
  std::vector<char> real(p.padded_cols());
  for (uint32_t r = 0; r < l.rows; ++r) {
    unpack_indices(l.indices.data(), uint64_t(r) * l.cols, l.cols, l.bits, row.data());
    std::fill(real.begin(), real.end(), 0);
    for (uint32_t k = 0; k < l.cols; ++k) {
      const uint32_t e = k / p.group * p.group_padded + k % p.group;
      real[e] = 1;
      ASSERT_EQ(kernels::packed_code_at(p, r, e), row[k]) << "row " << r << " column " << k;
    }
    for (uint32_t e = 0; e < p.padded_cols(); ++e)
      if (!real[e]) {
        ASSERT_EQ(kernels::packed_code_at(p, r, e), 0u) << "padding at row " << r << " element " << e;
      }
  }
}

TEST(PackedLayout, EveryCodeWhereItsElementIsForEveryBlockSize) {
  std::mt19937_64 rng(fresh_seed());
  for (const uint32_t block : {8u, 16u, 32u, 64u})
    for (const unsigned bits : {4u, 6u})
      for (int rep = 0; rep < 12; ++rep) {
        SampleOptions o;
        o.bits = bits;
        QuantizedLayer l = random_sop_layer(rng, o);
        l.group = block;
        l.block_scales.resize(size_t(l.rows) * l.groups_per_row());
        for (auto& c : l.block_scales) c = uint16_t(rng() & ((1u << l.sop_scale_code_bits()) - 1));
        SCOPED_TRACE("block " + std::to_string(block) + ", " + std::to_string(bits) + "-bit, " +
                     std::to_string(l.rows) + "x" + std::to_string(l.cols));
        const PackedLayer p = kernels::pack_layer(l);
        EXPECT_EQ(p.dense(), block < kernels::kBlock);
        EXPECT_EQ(p.group_padded, block < kernels::kBlock ? block : (block + 31) / 32 * 32);
        EXPECT_EQ(p.padded_cols() % kernels::kBlock, 0u);
        EXPECT_EQ(p.row_bytes * 8, size_t(p.padded_cols()) * bits);
        expect_codes_in_place(l, p);
        if (HasFatalFailure()) return;
      }
}

TEST(PackedLayout, OtherSchemesKeepOneBlockPerGroupStart) {
  std::mt19937_64 rng(fresh_seed());
  for (Scheme s : {Scheme::kXfpV2, Scheme::kXfpV2a, Scheme::kInt4G128, Scheme::kNf4B64, Scheme::kFp8E4M3})
    for (int rep = 0; rep < 8; ++rep) {
      const QuantizedLayer l = random_kernel_layer(s, rng);
      SCOPED_TRACE(scheme_name(s));
      const PackedLayer p = kernels::pack_layer(l);
      EXPECT_FALSE(p.dense());
      EXPECT_EQ(p.group_padded % kernels::kBlock, 0u);
      expect_codes_in_place(l, p);
      if (HasFatalFailure()) return;
    }
}

// Every scale code of random sop layers (all widths 6..10 bits: UE4M2..4,
// signed or not, paired or not) reads back through sop_code(), from a byte
// array when the code has at most 8 bits and from 16-bit words otherwise,
// and the streamed bytes count exactly that.
TEST(PackedLayout, SopScaleCodesTakeOneByteWhereTheCodeFits) {
  std::mt19937_64 rng(fresh_seed());
  for (unsigned mant = 2; mant <= 4; ++mant)
    for (const bool paired : {false, true})
      for (const bool is_signed : {false, true})
        for (int rep = 0; rep < 3; ++rep) {
          QuantizedLayer l = random_sop_layer(rng, SampleOptions{});
          l.sop_scale_mant_bits = uint8_t(mant);
          l.sop_paired = paired;
          l.sop_scale_signed = is_signed;
          l.codebooks.resize((paired ? 2u : 1u) << l.bits, l.codebooks[0]);
          for (auto& c : l.block_scales) c = uint16_t(rng() & ((1u << l.sop_scale_code_bits()) - 1));
          const unsigned width = l.sop_scale_code_bits();
          SCOPED_TRACE(std::to_string(width) + "-bit scale codes, block " + std::to_string(l.group));
          const PackedLayer p = kernels::pack_layer(l);
          const bool bytes = width <= 8;
          EXPECT_EQ(p.sop_code8.size(), bytes ? l.block_scales.size() : 0u);
          EXPECT_EQ(p.group_half.size(), bytes ? 0u : l.block_scales.size());
          for (size_t gi = 0; gi < l.block_scales.size(); ++gi)
            ASSERT_EQ(kernels::sop_code(p, gi), l.block_scales[gi]) << "group " << gi;
          const size_t per_code = (1u << width) * (4 + 1);  // fp32 scale and book per possible code
          const size_t outliers = p.out_row_ptr.size() * 4 + p.out_col.size() * 8;  // CSR, column + residual
          EXPECT_EQ(p.streamed_bytes(), p.indices.size() + l.block_scales.size() * (bytes ? 1 : 2) +
                                            p.shared.size() * 4 + per_code + outliers);
        }
}

// The headline format on an LLM-shaped row: 6 index bits per weight, not the
// 12 that padding each block of 16 to 32 slots used to cost; b8 4-bit: 4, not 16.
TEST(PackedLayout, DenseIndexBytesAreTheFormatsOwnBits) {
  std::mt19937_64 rng(fresh_seed());
  const uint32_t rows = 8, cols = 4096;
  std::vector<float> w(size_t(rows) * cols);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  for (float& v : w) v = nd(rng);
  for (const auto& [format, bits] :
       {std::pair<const char*, unsigned>{"e2m3.ue4m4.b16", 6}, {"e2m1.ue4m3.b16", 4}, {"nf4.ue4m2.b8", 4}}) {
    const PackedLayer p = kernels::pack_layer(sop_layer(format, "synth", w.data(), rows, cols));
    EXPECT_TRUE(p.dense()) << format;
    EXPECT_EQ(p.indices.size() * 8, size_t(rows) * cols * bits) << format;
  }
  // A row that ends inside a block pads only to that block's end.
  const PackedLayer odd = kernels::pack_layer(sop_layer("e2m3.ue4m4.b16", "odd", w.data(), rows, 48));
  EXPECT_EQ(odd.padded_cols(), 64u);
  EXPECT_EQ(odd.indices.size(), size_t(rows) * 64 * 6 / 8);
}

}  // namespace
}  // namespace lutc::testing
// layer_luts against docs/hif.md "What a LUT holds": for every scheme, the
// book each (row, group) selects, times its block scale, plus the outlier
// residual, is the golden decode bit for bit; the fixed books hold what the
// docs list; with a lossless HIF the arch's golden GEMV is the layer's.
#include "lutc/compiler/layer_luts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "compiler_test_layers.h"
#include "lutc/compiler/arch_config.h"
#include "lutc/model/bitpack.h"
#include "lutc/model/element_formats.h"
#include "lutc/model/fp16.h"
#include "lutc/model/golden.h"
#include "test_data.h"

namespace lutc {
namespace {

std::vector<Scheme> all_schemes() {
  std::vector<Scheme> s = testing::compiled_schemes();
  if (std::find(s.begin(), s.end(), Scheme::kSop) == s.end()) s.push_back(Scheme::kSop);
  return s;
}

QuantizedLayer layer_for(Scheme s, std::mt19937_64& rng, uint32_t rows, uint32_t cols) {
  const std::vector<float> w = testing::random_weights(rows, cols, rng);
  if (s == Scheme::kSop) return testing::quantize_sop_for_test(testing::kSopTestFormat, "t", w.data(), rows, cols);
  return testing::quantize_for_test(s, "t", w.data(), rows, cols, 32);
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(LayerLuts, BookTimesScalePlusOutliersIsTheGoldenDecode) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (Scheme s : all_schemes()) {
    SCOPED_TRACE(scheme_name(s));
    // Odd widths: a short final group in every scheme that has groups.
    const uint32_t rows = 3 + uint32_t(rng() % 6), cols = 130 + uint32_t(rng() % 70);
    const QuantizedLayer l = layer_for(s, rng, rows, cols);
    const LayerLuts t = layer_lut_values(l);
    ASSERT_EQ(t.entries, 1u << l.bits);
    ASSERT_EQ(t.values.size() % t.entries, 0u);
    EXPECT_TRUE(t.books.empty()) << "values only";
    const uint32_t group = l.group ? l.group : l.cols;
    EXPECT_EQ(t.group, group);
    std::vector<float> golden(size_t(l.elements()));
    golden_decode(l, golden.data());
    std::vector<uint8_t> codes(size_t(l.elements()));
    unpack_indices(l.indices.data(), 0, l.elements(), l.bits, codes.data());
    const size_t books = t.values.size() / t.entries;
    for (uint32_t r = 0; r < rows; ++r) {
      std::vector<float> row(cols);
      for (uint32_t k = 0; k < cols; ++k) {
        const uint32_t g = k / group;
        const uint32_t book = group_book(l, t, r, g);
        ASSERT_LT(book, books) << "row " << r << " group " << g;
        row[k] = t.values[size_t(book) * t.entries + codes[size_t(r) * cols + k]] * half_to_float(group_scale(l, r, g));
      }
      if (!l.outliers.row_ptr.empty())
        for (uint32_t j = l.outliers.row_ptr[r]; j < l.outliers.row_ptr[r + 1]; ++j)
          row[l.outliers.col[j]] += half_to_float(l.outliers.val[j]);
      for (uint32_t k = 0; k < cols; ++k)
        ASSERT_TRUE(same_bits(row[k], golden[size_t(r) * cols + k]))
            << "row " << r << " col " << k << ": " << row[k] << " vs " << golden[size_t(r) * cols + k];
    }
  }
}

TEST(LayerLuts, FixedBooksHoldWhatTheDocsList) {
  std::mt19937_64 rng(testing::fresh_seed());
  // int4.g128: 16 books, book z holds q - z; the zero point picks the book.
  const QuantizedLayer i4 = layer_for(Scheme::kInt4G128, rng, 2, 300);
  const LayerLuts t4 = layer_lut_values(i4);
  ASSERT_EQ(t4.values.size(), 256u);
  for (unsigned z = 0; z < 16; ++z)
    for (unsigned q = 0; q < 16; ++q) EXPECT_EQ(t4.values[z * 16 + q], float(int(q) - int(z)));
  EXPECT_TRUE(t4.has_id);
  EXPECT_TRUE(t4.has_scale);
  for (uint32_t g = 0; g < i4.groups_per_row(); ++g) {
    EXPECT_EQ(group_book(i4, t4, 1, g), uint32_t(half_to_float(i4.group_zeros[i4.groups_per_row() + g])));
    EXPECT_EQ(group_scale(i4, 1, g), i4.group_scales[i4.groups_per_row() + g]);
  }

  // nf4.b64: one book, the NF4 levels as stored (fp16).
  const QuantizedLayer n4 = layer_for(Scheme::kNf4B64, rng, 2, 130);
  const LayerLuts tn = layer_lut_values(n4);
  ASSERT_EQ(tn.values.size(), 16u);
  for (unsigned i = 0; i < 16; ++i) EXPECT_EQ(tn.values[i], half_to_float(nf4_level_fp16(i)));
  EXPECT_EQ(tn.select, BookSelect::kFixed);
  EXPECT_FALSE(tn.has_id);
  EXPECT_TRUE(tn.has_scale);
  EXPECT_EQ(group_book(n4, tn, 1, 1), 0u);

  // fp8.e4m3: 256 entries e4m3(q) * 2^layer_scale_exp; the NaN codes hold 0.
  const QuantizedLayer f8 = layer_for(Scheme::kFp8E4M3, rng, 2, 70);
  const LayerLuts t8 = layer_lut_values(f8);
  ASSERT_EQ(t8.values.size(), 256u);
  EXPECT_EQ(t8.group, f8.cols) << "one group per row";
  for (unsigned q = 0; q < 256; ++q) {
    const double want =
        e4m3_is_nan(uint8_t(q)) ? 0.0 : std::ldexp(double(e4m3_to_float(uint8_t(q))), f8.layer_scale_exp);
    EXPECT_EQ(double(t8.values[q]), want) << q;
  }
  EXPECT_EQ(t8.values[0x7f], 0.0f);
  EXPECT_EQ(t8.values[0xff], 0.0f);
  EXPECT_FALSE(t8.has_scale);
  EXPECT_EQ(group_scale(f8, 0, 0), 0x3c00) << "no scale reads as 1.0";
}

TEST(LayerLuts, LearnedBooksAreTheStoredCodebooks) {
  std::mt19937_64 rng(testing::fresh_seed());
  const QuantizedLayer v2 = layer_for(Scheme::kXfpV2, rng, 3, 100);
  const LayerLuts t2 = layer_lut_values(v2);
  ASSERT_EQ(t2.values.size(), v2.codebooks.size());
  for (size_t i = 0; i < v2.codebooks.size(); ++i) EXPECT_EQ(t2.values[i], half_to_float(v2.codebooks[i]));
  EXPECT_EQ(t2.select, BookSelect::kPerGroup);
  // One book per (row, group), in row-major order.
  EXPECT_EQ(group_book(v2, t2, 2, 1), 2 * v2.groups_per_row() + 1);
  EXPECT_EQ(group_scale(v2, 2, 1), 0x3c00);

  const QuantizedLayer v2a = layer_for(Scheme::kXfpV2a, rng, 3, 300);
  const LayerLuts ta = layer_lut_values(v2a);
  EXPECT_EQ(ta.values.size(), size_t(kV2aLibrarySize) << v2a.bits);
  EXPECT_EQ(ta.select, BookSelect::kById);
  EXPECT_TRUE(ta.has_id);
  for (uint32_t r = 0; r < 3; ++r)
    for (uint32_t g = 0; g < v2a.groups_per_row(); ++g)
      EXPECT_EQ(group_book(v2a, ta, r, g), v2a.group_ids[r * v2a.groups_per_row() + g]);

  // sop: the books carry 2^layer_scale_exp; a pair selects by id.
  const QuantizedLayer sop = layer_for(Scheme::kSop, rng, 3, 64);
  const LayerLuts ts = layer_lut_values(sop);
  ASSERT_TRUE(sop.sop_paired);
  EXPECT_EQ(ts.values.size(), sop.codebooks.size());
  EXPECT_EQ(ts.select, BookSelect::kById);
  for (size_t i = 0; i < sop.codebooks.size(); ++i)
    EXPECT_EQ(double(ts.values[i]), std::ldexp(double(half_to_float(sop.codebooks[i])), sop.layer_scale_exp));
}

TEST(LayerLuts, LosslessHifGivesTheLayersGoldenGemv) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const ArchConfig arch = default_arch();
  const HifFormat hif{arch.hif_mant_bits, arch.hif_shift_bits};
  size_t lossless = 0;
  for (Scheme s : all_schemes()) {
    SCOPED_TRACE(scheme_name(s));
    const uint32_t rows = 4 + uint32_t(rng() % 5), cols = 64 + uint32_t(rng() % 100), batch = 2;
    const QuantizedLayer l = layer_for(s, rng, rows, cols);
    const LayerLuts t = lower_layer_luts(l, hif);
    const HifErrorReport rep = measure_hif_error(l, t, hif);
    EXPECT_EQ(rep.total_entries, t.values.size());
    std::vector<float> x(size_t(batch) * cols), y(size_t(batch) * rows), want(y.size());
    std::normal_distribution<float> g;
    for (float& v : x) v = g(rng);
    arch_golden_gemv(l, arch, x.data(), batch, y.data());
    // Always: the golden GEMV of the HIF-rounded weights at the arch's width.
    GemvConfig cfg;
    cfg.act_bits = arch.act_bits;
    const std::vector<float> w = hif_weights(l, hif);
    golden_gemv_weights(w.data(), rows, cols, x.data(), batch, cfg, want.data());
    EXPECT_EQ(std::memcmp(y.data(), want.data(), y.size() * sizeof(float)), 0);
    if (!rep.lossless()) continue;
    ++lossless;
    EXPECT_TRUE(std::isinf(rep.sqnr_db));
    EXPECT_EQ(rep.max_abs_error, 0.0);
    golden_gemv(l, x.data(), batch, cfg, want.data());
    EXPECT_EQ(std::memcmp(y.data(), want.data(), y.size() * sizeof(float)), 0);
  }
  // int4's integer books fit any HIF: at least that scheme was checked here.
  EXPECT_GT(lossless, 0u);
}

TEST(LayerLuts, LossyHifErrorIsWhatTheWeightsMoved) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const HifFormat coarse{3, 2};  // 3-bit mantissas: fp16 codebooks cannot survive
  const QuantizedLayer l = layer_for(Scheme::kXfpV2, rng, 5, 96);
  const LayerLuts t = lower_layer_luts(l, coarse);
  const HifErrorReport rep = measure_hif_error(l, t, coarse);
  EXPECT_FALSE(rep.lossless());
  EXPECT_GT(rep.changed_entries, 0u);
  EXPECT_LE(rep.changed_entries, rep.total_entries);
  std::vector<float> golden(size_t(l.elements()));
  golden_decode(l, golden.data());
  const std::vector<float> w = hif_weights(l, coarse);
  double sig = 0, noise = 0, worst = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const double d = double(w[i]) - golden[i];
    sig += double(golden[i]) * golden[i];
    noise += d * d;
    worst = std::max(worst, std::fabs(d));
  }
  EXPECT_EQ(rep.max_abs_error, worst);
  EXPECT_NEAR(rep.sqnr_db, 10 * std::log10(sig / noise), 1e-9);
}

}  // namespace
}  // namespace lutc

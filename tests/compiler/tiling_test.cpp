// plan_tiles (tiling.h) held directly to docs/isa.md "Tiling": tiles cover
// the layer exactly, a tile has at most `lanes` rows, an activation chunk fits
// half the activation SRAM (all of it when there is one chunk), every tile's indices, metadata and outliers fit
// (half) the weight SRAM, and a layer that no tile fits is refused by name.
#include "lutc/compiler/tiling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "compiler_test_layers.h"
#include "lutc/model/error.h"
#include "test_data.h"

namespace lutc {
namespace {

// Outliers of rows [r0, r1) x columns [k0, k1).
uint64_t outliers_in(const QuantizedLayer& l, uint32_t r0, uint32_t r1, uint32_t k0, uint32_t k1) {
  const OutlierCsr& o = l.outliers;
  if (o.row_ptr.empty()) return 0;
  uint64_t n = 0;
  for (uint32_t r = r0; r < r1; ++r)
    for (uint32_t i = o.row_ptr[r]; i < o.row_ptr[r + 1]; ++i) n += o.col[i] >= k0 && o.col[i] < k1;
  return n;
}

TEST(PlanTiles, TilesCoverTheLayerAndFitTheirBuffers) {
  std::mt19937_64 rng(testing::fresh_seed());
  size_t planned = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const std::vector<Scheme> schemes = testing::compiled_schemes();
    const Scheme s = schemes[rng() % schemes.size()];
    const uint32_t rows = 1 + uint32_t(rng() % 70), cols = 16 + uint32_t(rng() % 700);
    const std::vector<float> w = testing::random_weights(rows, cols, rng);
    const QuantizedLayer l = testing::quantize_for_test(s, "blk.0.t", w.data(), rows, cols, 0);
    const ArchConfig a = testing::arch_with({"core.lanes=" + std::to_string(1 + rng() % 64),
                                             "sram.weight_kib=" + std::to_string(1 + rng() % 64),
                                             "sram.act_kib=" + std::to_string(1 + rng() % 8)});
    const LayerLuts luts = lower_layer_luts(l, HifFormat{a.hif_mant_bits, a.hif_shift_bits});
    TilePlan t;
    try {
      t = plan_tiles(l, luts, a);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput);
      EXPECT_NE(std::string(e.what()).find("blk.0.t"), std::string::npos) << e.what();
      continue;  // a layer no tile of this arch holds: refused by name
    }
    ++planned;
    const std::string what = std::string(scheme_name(s)) + " " + std::to_string(rows) + "x" + std::to_string(cols) +
                             " on " + canonical_arch_text(a);
    ASSERT_GE(t.tile_rows, 1u) << what;
    ASSERT_GE(t.tile_cols, 1u) << what;
    EXPECT_LE(t.tile_rows, a.lanes) << what;
    // Exact cover: the last tile is the only partial one.
    EXPECT_GE(uint64_t(t.row_tiles) * t.tile_rows, rows) << what;
    EXPECT_LT(uint64_t(t.row_tiles - 1) * t.tile_rows, rows) << what;
    EXPECT_GE(uint64_t(t.col_tiles) * t.tile_cols, cols) << what;
    EXPECT_LT(uint64_t(t.col_tiles - 1) * t.tile_cols, cols) << what;
    const uint64_t buffers = t.double_buffered() ? 2 : 1;
    // The activation chunk takes half the activation SRAM, all of it when there is one chunk.
    const uint64_t act_buffers = t.col_tiles > 1 ? 2 : 1;
    EXPECT_LE(uint64_t(t.tile_cols) * (a.act_bits / 8), a.act_sram_bytes() / act_buffers) << what;
    for (uint32_t r0 = 0; r0 < rows; r0 += t.tile_rows)
      for (uint32_t k0 = 0; k0 < cols; k0 += t.tile_cols) {
        const uint32_t nr = std::min(t.tile_rows, rows - r0), nc = std::min(t.tile_cols, cols - k0);
        const uint64_t bytes = tile_sram_bytes(l, luts, nr, k0, nc, outliers_in(l, r0, r0 + nr, k0, k0 + nc));
        EXPECT_LE(bytes, a.weight_sram_bytes() / buffers) << what << " tile at row " << r0 << ", column " << k0;
        // xfp.v2: one book per (row, group) of the tile, all in (half) the LUT.
        if (luts.select == BookSelect::kPerGroup) {
          const uint64_t books = uint64_t(nr) * groups_in_chunk(k0, nc, luts.group);
          const uint64_t slots = uint64_t(a.lut_banks) * (a.lut_bank_words / luts.entries);
          EXPECT_LE(books, slots / buffers) << what << " tile at row " << r0 << ", column " << k0;
        }
      }
  }
  EXPECT_GT(planned, 20u) << "too few random layers fit to test the plan";
}

}  // namespace
}  // namespace lutc

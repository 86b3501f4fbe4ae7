#pragma once
// Tiling (docs/isa.md "Tiling"): tiles of tile_rows x tile_cols, row tiles
// outer, column chunks inner, sized so that one tile's indices, metadata and
// outlier records fit half the weight SRAM, one activation chunk fits half the
// activation SRAM, and (xfp.v2) one tile's codebooks fit half the LUT, so the
// next tile loads while this one computes. With a single tile the halves
// are not needed and the whole memory is used.
#include <cstdint>
#include <string>
#include <vector>

#include "lutc/compiler/arch_config.h"
#include "lutc/compiler/layer_luts.h"
#include "lutc/spec/chunk_groups.h"

namespace lutc {

struct TilePlan {
  uint32_t tile_rows = 0, tile_cols = 0;
  uint32_t row_tiles = 0, col_tiles = 0;
  uint32_t tiles() const { return row_tiles * col_tiles; }
  bool double_buffered() const { return tiles() > 1; }
};

inline uint64_t align8(uint64_t v) { return (v + 7) & ~uint64_t(7); }
uint32_t meta_format_of(const LayerLuts& luts);

// Throws Error(kBadInput) naming the layer and the constraint no tile meets.
TilePlan plan_tiles(const QuantizedLayer& layer, const LayerLuts& luts, const ArchConfig& arch);

// Bytes a tile occupies in one weight-SRAM buffer (indices, metadata, outliers, each 8-aligned).
uint64_t tile_sram_bytes(const QuantizedLayer& layer, const LayerLuts& luts, uint32_t rows, uint32_t k0, uint32_t cols,
                         uint64_t outliers);

}  // namespace lutc

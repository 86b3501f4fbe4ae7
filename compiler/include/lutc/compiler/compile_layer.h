#pragma once
// lutc compile for one layer: HIF lowering, fixed-point view, tiling, DRAM
// layout and the instruction stream (docs/isa.md "Program shape").
#include <string>

#include "lutc/compiler/layer_luts.h"
#include "lutc/compiler/program.h"
#include "lutc/compiler/tiling.h"

namespace lutc {

struct CompileReport {
  HifErrorReport hif;
  TilePlan plan;
  uint64_t program_bytes = 0;  // size of the serialized .lutp
};

// Throws Error(kBadInput) naming the layer and the constraint when the layer
// cannot be lowered for `arch` (codebooks larger than the LUT, an
// accumulator too narrow, a tile that fits no buffer).
Program compile_layer(const QuantizedLayer& layer, const ArchConfig& arch,
                      CompileReport* report = nullptr);

}  // namespace lutc

#pragma once
// The functional executor: runs a verified program instruction by
// instruction on a model of the engine's memories (LUT banks and base
// registers, weight SRAM, activation SRAM, accumulators) with the integer
// datapath of docs/isa.md "Numerics". Its y is bit-identical to the golden
// GEMV of the layer's effective (HIF) weights.
#include <cstdint>

#include "lutc/compiler/program.h"

namespace lutc {

struct ExecStats {
  uint64_t instructions = 0;
  uint64_t macs = 0;  // codes decoded x batch
  uint64_t lut_words_loaded = 0;
  uint64_t dma_bytes = 0;
  uint64_t outlier_ops = 0;
  uint64_t memory_bytes = 0;  // the engine memories' arrays, sized by what the program touches
};

// x: batch x cols fp32 (rounded to bf16 on entry, as the golden GEMV does);
// y: batch x rows, every element written. Throws Error(kBadInput) on bad
// activations or on data in SRAM a verified program cannot use (a book id
// past the LUT, an outlier record outside its tile, an accumulator overflow).
void execute(const Program& p, const float* x, uint32_t batch, float* y, ExecStats* stats = nullptr);

}  // namespace lutc

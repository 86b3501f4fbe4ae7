#pragma once
// The engine's integer arithmetic (docs/isa.md "Numerics"), read off the
// program image: HIF word fields (docs/hif.md), fp16 block-scale fields, the
// integer weight trunc(HIF mantissa x scale mantissa x 2^(E - Ew)) that equals
// model/'s weight_to_int for the same fp32 value, and the exact dot product of
// one group. Shared by the lanes; the activation quantization and the final
// rounding are model/'s own (quantize_activations, scaled_int128_to_float).
#include <cstdint>
#include <string>

#include "lutc/sim/commands.h"

namespace lutc::sim {

using u128 = unsigned __int128;

struct HifLayout {
  unsigned mant_bits, shift_bits;
};

struct BlockScale {  // fp16 fields; 1.0 (mant 1, exp 0) when the scheme has none
  bool negative = false;
  uint32_t mant = 1;
  int exp = 0;
};

struct ColumnSpan {  // columns [begin, end) of the chunk
  uint32_t begin, end;
};

struct TileShape {
  uint32_t groups;      // groups the chunk touches
  uint32_t bits;        // code width
  uint32_t meta_bytes;  // per (row, group) record
};

TileShape tile_shape(const ComputeCommand& c);
// The chunk-local columns of the g-th group a chunk [k0, k0 + cols) touches.
ColumnSpan group_columns(uint32_t k0, uint32_t cols, uint32_t group, uint32_t g);

int32_t activation_at(const uint8_t* p, uint32_t act_bytes);
// Throws Error(kBadInput) naming the layer when the scale is not finite.
BlockScale block_scale(const uint8_t* record, uint32_t meta_format, const std::string& layer);
// The 2^b integer weights of one book under one block scale at Ew. Throws
// Error(kBadInput) when a weight does not fit 63 bits.
void integer_weights(const uint32_t* words, uint32_t entries, int base, const HifLayout& hif, const BlockScale& s,
                     int ew, const std::string& layer, int64_t* out);
// sum_j w[code_j] * a_j, exact (modulo 2^128 like the accumulator).
u128 dot_codes(const uint8_t* codes, const int32_t* a, uint32_t n, const int64_t* w, uint32_t entries);

}  // namespace lutc::sim

#pragma once
// The lanes' integer arithmetic (docs/isa.md "Numerics") on the program
// image, built from the engine rules of lutc/spec (HIF fields, block scale,
// metadata records, the weight rule, chunk groups, activation words): the
// integer weights of one book and the exact dot product of one group. The
// activation quantization and the final rounding are model/'s own
// (quantize_activations, scaled_int128_to_float).
#include <cstdint>
#include <string>

#include "lutc/sim/commands.h"
#include "lutc/spec/activation_word.h"
#include "lutc/spec/block_scale.h"
#include "lutc/spec/chunk_groups.h"
#include "lutc/spec/hif_word.h"

namespace lutc::sim {

using u128 = unsigned __int128;

struct TileShape {
  uint32_t groups;      // groups the chunk touches
  uint32_t bits;        // code width
  uint32_t meta_bytes;  // per (row, group) record
};

TileShape tile_shape(const ComputeCommand& c);

// The record's block scale (1.0 when the format has none). Throws
// Error(kBadInput) naming the layer when the scale is not finite.
BlockScale block_scale(const uint8_t* record, uint32_t meta_format, const std::string& layer);
// The 2^b integer weights of one book under one block scale at Ew. Throws
// Error(kBadInput) when a weight does not fit 63 bits.
void integer_weights(const uint32_t* words, uint32_t entries, int base, const HifFormat& hif, const BlockScale& s,
                     int ew, const std::string& layer, int64_t* out);
// sum_j w[code_j] * a_j, exact (modulo 2^128 like the accumulator).
u128 dot_codes(const uint8_t* codes, const int32_t* a, uint32_t n, const int64_t* w, uint32_t entries);

}  // namespace lutc::sim

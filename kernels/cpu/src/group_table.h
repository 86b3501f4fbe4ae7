#pragma once
// The 2^b decoded values one (row, group) can take, computed with exactly the
// fp32 operations of the golden decode (docs/numerics.md), so a lookup into
// this table is the golden decode of that code. SIMD kernels that build the
// table in registers use the same operations, lane by lane.
#include <cstdint>

#include "lutc/kernels/cpu/packed_layer.h"
#include "lutc/model/fp16.h"

namespace lutc::kernels {

inline void group_table(const PackedLayer& p, uint32_t r, uint32_t g, float* t) {
  const unsigned entries = 1u << p.bits;
  const size_t gi = size_t(r) * p.groups_per_row + g;
  switch (p.scheme) {
    case Scheme::kXfpV2: {
      const uint16_t* cb = p.group_half.data() + gi * entries;
      for (unsigned j = 0; j < entries; ++j) t[j] = half_to_float(cb[j]);
      break;
    }
    case Scheme::kXfpV2a: {
      const float* lib = p.shared.data() + size_t(p.group_ids[gi]) * entries;
      for (unsigned j = 0; j < entries; ++j) t[j] = lib[j];
      break;
    }
    case Scheme::kInt4G128: {
      const float s = half_to_float(p.group_half[2 * gi]);
      const float z = half_to_float(p.group_half[2 * gi + 1]);
      for (unsigned j = 0; j < 16; ++j) t[j] = s * (float(j) - z);
      break;
    }
    case Scheme::kNf4B64: {
      const float s = half_to_float(p.group_half[gi]);
      for (unsigned j = 0; j < 16; ++j) t[j] = p.shared[j] * s;
      break;
    }
    case Scheme::kFp8E4M3:
      for (unsigned j = 0; j < 256; ++j) t[j] = p.shared[j];
      break;
    case Scheme::kSop: {
      const unsigned c = sop_code(p, gi);
      const float s = p.sop_scale[c];
      const float* book = p.shared.data() + size_t(p.sop_book[c]) * entries;
      for (unsigned j = 0; j < entries; ++j) t[j] = book[j] * s;
      break;
    }
    default: break;
  }
}

// The i8 path's table of a 4-bit group: t ~ scale * t8. int4.g128 is exact
// (t8 = j - zero, scale = the group scale); nf4.b64, xfp.v2a and sop use the
// shared tables rounded once at pack time (sop: times the block's signed
// scale); xfp.v2 its group's codebook, also rounded at pack time (group_i8).
// Returns 0 for a group whose table is all zero.
float group_table_i8(const PackedLayer& p, uint32_t r, uint32_t g, int8_t* t8);

// Codes of one padded group, in element order (undoes the 4-bit reordering).
void group_codes(const PackedLayer& p, uint32_t r, uint32_t g, uint8_t* codes);

}  // namespace lutc::kernels

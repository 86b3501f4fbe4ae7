#pragma once
// The device-side view of a packed layer and the three things every kernel
// does with it: find a code, turn (row, group, code) into the golden decoded
// value, and map a column to its padded code position. Table entries are
// rebuilt with the golden decode's own fp32 operations (mul_rn/sub_rn:
// round-to-nearest, never contracted into an FMA), so a value computed here
// has the same bits as model/'s golden_decode and the CPU's group_table().
// Everything here is host+device: emulate.cu runs the kernels on the CPU.
#include <cstdint>

#include "device_math.cuh"
#include "lutc/model/scheme.h"

namespace lutc::kernels::cuda {

struct LayerView {
  Scheme scheme;  // the model's enum: no second numbering to keep in step
  uint32_t rows, cols, bits, group, groups_per_row, group_padded;
  uint64_t group_bytes, row_bytes;
  // Codes per group slot in a row: group_padded (each group starts a fresh
  // block of 32, pack_layer's layout) or, in the dense layout the GPU uses
  // for groups of 1..16 that divide 32 (sop b8/b16), group itself, so a
  // block holds 32/group whole groups and no padding is streamed.
  uint32_t gstride;
  uint32_t row_blocks;  // blocks of 32 code slots per row
  const uint8_t* indices;
  const uint16_t* group_half;
  // sop scale codes, one byte each, when the format's code fits in 8 bits
  // (PackedLayer::sop_code8); nullptr when they are 16-bit (group_half).
  const uint8_t* sop_code8;
  const uint8_t* group_ids;
  const float* shared;  // shared tables (v2a library, NF4 levels, fp8 values, sop codebooks)
  uint32_t shared_len;
  const float* sop_scale;
  const uint8_t* sop_book;
  uint32_t sop_codes;
  const uint32_t* out_row_ptr;  // nullptr without outliers
  const uint32_t* out_col;
  const float* out_residual;
  int weight_exp;
};

// The code in slot q of row r. Slots come in blocks of 32 (4*bits bytes):
// 4-bit blocks hold code j in the low nibble of byte j and code j+16 in its
// high nibble; other widths are a little-endian bit stream (pack_layer's
// layouts: a group always starts on a block boundary there, so the row-wide
// stream is the per-group one).
LUTC_HD unsigned code_at_slot(const LayerView& v, uint32_t r, uint32_t q) {
  const uint8_t* row = v.indices + r * v.row_bytes;
  if (v.bits == 4) {
    const uint8_t b = row[(q & ~31u) / 2 + (q & 15u)];
    return (q & 16u) ? unsigned(b >> 4) : unsigned(b & 15u);
  }
  if (v.bits == 8) return row[q];
  const uint64_t bit = uint64_t(q) * v.bits;
  const unsigned shift = unsigned(bit & 7);
  unsigned x = row[bit >> 3] >> shift;
  if (shift + v.bits > 8) x |= unsigned(row[(bit >> 3) + 1]) << (8 - shift);
  return x & ((1u << v.bits) - 1u);
}

// Code of element i of group g in row r.
LUTC_HD unsigned code_at(const LayerView& v, uint32_t r, uint32_t g, uint32_t i) {
  return code_at_slot(v, r, g * v.gstride + i);
}

// The golden decoded value of `code` in group g of row r (dense part, no outlier).
// `tables` points at the shared tables (global or shared memory copy).
LUTC_HD float entry(const LayerView& v, const float* tables, const float* sop_scale, uint32_t r, uint32_t g,
                    unsigned code) {
  const uint64_t gi = uint64_t(r) * v.groups_per_row + g;
  const unsigned entries = 1u << v.bits;
  switch (v.scheme) {
    case Scheme::kXfpV2: return half_bits_to_float(v.group_half[gi * entries + code]);
    case Scheme::kXfpV2a: return tables[uint32_t(v.group_ids[gi]) * entries + code];
    case Scheme::kInt4G128: {
      const float s = half_bits_to_float(v.group_half[2 * gi]);
      const float z = half_bits_to_float(v.group_half[2 * gi + 1]);
      return mul_rn(s, sub_rn(float(code), z));
    }
    case Scheme::kNf4B64: return mul_rn(tables[code], half_bits_to_float(v.group_half[gi]));
    case Scheme::kFp8E4M3: return tables[code];
    default: {  // sop: codebook entry times the block's signed scale, one product
      const unsigned c = v.sop_code8 ? v.sop_code8[gi] : v.group_half[gi];
      return mul_rn(tables[uint32_t(v.sop_book[c]) * entries + code], sop_scale[c]);
    }
  }
}

// Column k of the row: its group and position inside the padded group.
LUTC_HD void locate(const LayerView& v, uint32_t k, uint32_t* g, uint32_t* i) {
  *g = k / v.group;
  *i = k - *g * v.group;
}

LUTC_HD float dense_at(const LayerView& v, const float* tables, const float* sop_scale, uint32_t r, uint32_t k) {
  uint32_t g, i;
  locate(v, k, &g, &i);
  return entry(v, tables, sop_scale, r, g, code_at(v, r, g, i));
}

}  // namespace lutc::kernels::cuda

#pragma once
// The fast GEMV's per-lane work, host+device: fast_kernel.cu launches it,
// emulate.cu runs the same code on the CPU lane by lane. Design (docs/cuda.md):
//  - A warp owns R consecutive rows (R = 2 at batch 1, 4 above) so every
//    activation value a lane loads is used R times from registers: at batch
//    16 the activations, not the weights, would otherwise be the most-read bytes.
//  - Lane L takes the 32-code blocks L, L+32, ... of each of its rows: one
//    16-byte load per row for 4-bit codes (8-bit: two, other widths b 4-byte
//    words), all R rows' loads issued before any arithmetic.
//  - Outside the dense layout a block never straddles two groups (pack_layer
//    starts every group on a block), so the group's table is found once per
//    block (dense: once per chunk that starts a new group): the layer's shared tables (v2a
//    library, NF4 levels, fp8 values, sop codebooks) are staged in shared
//    memory; per-group tables (xfp.v2 fp16 codebooks, int4 scale/zero) are
//    expanded into a per-lane shared-memory table laid out [entry][lane], so a
//    lookup by any code is bank-conflict free. xfp.v2 tables of 32 or more
//    entries are read from global memory instead (more entries than codes).
//  - Each weight is table[code] * scale, the golden decode's own product.
//  - Activations come as fp16 or bf16 bits in the padded column order (zeros
//    in group padding), 8 per 16-byte load; accumulation is fp32 fmaf.
//  - Outliers add residual * x before the warp's butterfly reduction.
#include "layer_view.cuh"

namespace lutc::kernels::cuda {

constexpr unsigned kFastWarps = 4;  // warps per thread block

template <unsigned MB>
struct FastRows {
  static constexpr unsigned value = MB == 1 ? 2 : 4;
};

// Whether a layer's per-group tables are expanded per lane in shared memory.
LUTC_HD bool uses_lane_tables(const LayerView& v) {
  return (v.scheme == Scheme::kXfpV2 && v.bits <= 4) || v.scheme == Scheme::kInt4G128;
}

// Shared-memory floats of one launch: staged layer tables, then the lane tables.
inline size_t fast_lane_table_floats(const LayerView& v, unsigned rows_per_warp) {
  return uses_lane_tables(v) ? size_t(kFastWarps) * rows_per_warp * (1u << v.bits) * 32 : 0;
}

// Code slots (and activation positions) per row: whole blocks of 32.
LUTC_HD uint32_t row_slots(const LayerView& v) { return v.row_blocks * 32; }

// Column k's slot: its position in the padded activation order.
LUTC_HD uint32_t padded_pos(const LayerView& v, uint32_t k) {
  const uint32_t g = k / v.group;
  return g * v.gstride + (k - g * v.group);
}

// Real elements of group g: the last group of a row may be shorter.
LUTC_HD uint32_t group_len(const LayerView& v, uint32_t g) {
  const uint32_t k0 = g * v.group;
  return v.cols - k0 < v.group ? v.cols - k0 : v.group;
}

// Element p of padded activation vector m (zero in group padding and in
// slots past the row's last group).
LUTC_HD uint16_t padded_act(const LayerView& v, const uint16_t* x, uint32_t m, uint32_t p) {
  const uint32_t g = p / v.gstride, i = p - g * v.gstride;
  return g < v.groups_per_row && i < group_len(v, g) ? x[uint64_t(m) * v.cols + uint64_t(g) * v.group + i]
                                                     : uint16_t(0);
}

// Where a (row, block)'s weights come from: w = tbl[code * stride] * scale,
// or for wide xfp.v2 codebooks the fp16 table in global memory.
struct BlockTable {
  const float* tbl;
  uint32_t stride;
  float scale;
  const uint16_t* half_tbl;  // non-null: w = fp16 half_tbl[code]
};

// Code j (activation order) of a block held in BITS little-endian words.
template <unsigned BITS>
LUTC_HD unsigned block_code(const uint32_t* w, unsigned j) {
  if constexpr (BITS == 4) {  // byte j%16 holds code j%16 (low nibble) and code j%16+16 (high)
    const unsigned jb = j & 15u;
    return (w[jb >> 2] >> ((jb & 3u) * 8 + (j >> 4) * 4)) & 15u;
  }
  const unsigned bit = j * BITS, word = bit >> 5, shift = bit & 31u;
  unsigned c = w[word] >> shift;
  if (shift + BITS > 32) c |= w[word + 1] << (32 - shift);
  return c & ((1u << BITS) - 1u);
}

template <unsigned BITS>
LUTC_HD void load_block(const LayerView& v, uint32_t r, uint32_t b, uint32_t* w) {
  const uint8_t* p = v.indices + uint64_t(r) * v.row_bytes + uint64_t(b) * (4 * BITS);
  if constexpr (BITS == 4 || BITS == 8) {
    for (unsigned q = 0; q < BITS / 4; ++q) {
      const Words4 x = load16_ro(p + 16 * q);
      for (unsigned t = 0; t < 4; ++t) w[4 * q + t] = x.w[t];
    }
  } else {
    for (unsigned q = 0; q < BITS; ++q) w[q] = load_ro(reinterpret_cast<const uint32_t*>(p) + q);
  }
}

// The table of group g in row r. lane_tbl is this lane's [entry][lane] table
// for this row (stride 32 floats), used by uses_lane_tables() schemes.
template <unsigned BITS>
LUTC_HD BlockTable block_table(const LayerView& v, const float* tables, const float* sop_scale, uint32_t r, uint32_t g,
                               float* lane_tbl, uint32_t lane_stride) {
  constexpr unsigned E = 1u << BITS;
  const uint64_t gi = uint64_t(r) * v.groups_per_row + g;
  switch (v.scheme) {
    case Scheme::kXfpV2:
      if constexpr (BITS <= 4) {
        const uint32_t* src = reinterpret_cast<const uint32_t*>(v.group_half + gi * E);
        for (unsigned e = 0; e < E; e += 2) {
          const uint32_t two = load_ro(src + e / 2);
          lane_tbl[e * lane_stride] = half_bits_to_float(uint16_t(two));
          lane_tbl[(e + 1) * lane_stride] = half_bits_to_float(uint16_t(two >> 16));
        }
        return {lane_tbl, lane_stride, 1.f, nullptr};
      } else {
        return {nullptr, 0, 1.f, v.group_half + gi * E};
      }
    case Scheme::kInt4G128: {
      const uint32_t sz = load_ro(reinterpret_cast<const uint32_t*>(v.group_half) + gi);
      const float s = half_bits_to_float(uint16_t(sz)), z = half_bits_to_float(uint16_t(sz >> 16));
      for (unsigned e = 0; e < E; ++e) lane_tbl[e * lane_stride] = mul_rn(s, sub_rn(float(e), z));
      return {lane_tbl, lane_stride, 1.f, nullptr};
    }
    case Scheme::kXfpV2a: return {tables + uint32_t(load_ro(v.group_ids + gi)) * E, 1, 1.f, nullptr};
    case Scheme::kNf4B64: return {tables, 1, half_bits_to_float(load_ro(v.group_half + gi)), nullptr};
    case Scheme::kFp8E4M3: return {tables, 1, 1.f, nullptr};
    default: {  // sop: codebook entry times the block's signed scale, one product
      const unsigned c = v.sop_code8 ? load_ro(v.sop_code8 + gi) : load_ro(v.group_half + gi);
      return {tables + uint32_t(v.sop_book[c]) * E, 1, sop_scale[c], nullptr};
    }
  }
}

LUTC_HD float table_weight(const BlockTable& t, unsigned code) {
  if (t.half_tbl) return half_bits_to_float(load_ro(t.half_tbl + code));
  return mul_rn(t.tbl[code * t.stride], t.scale);
}

// Lane `lane` of the warp owning rows r0..r0+R-1: its partial sums of
// W_hat x for nb <= MB activation vectors of xp (slot order, row stride
// row_slots(v)). lane_tbl points at this lane's slot of the warp's lane
// tables ([row][entry][lane], stride 32). A chunk of 8 codes never straddles
// two groups (gstride is a multiple of 8), so the table is looked up once per
// chunk at most: once per block in pack_layer's layout, once per group in
// the dense one.
template <unsigned BITS, unsigned MB, unsigned R, class Act>
LUTC_HD void fast_lane(const LayerView& v, const float* tables, const float* sop_scale, const uint16_t* xp, uint32_t nb,
                       uint32_t r0, uint32_t lane, float* lane_tbl, float (&acc)[R][MB]) {
  constexpr unsigned E = 1u << BITS;
  constexpr unsigned W = BITS;  // 32-bit words per block of 32 codes
  const uint32_t xstride = row_slots(v);
  // Some slots hold no element (group padding, a short last group, slots past
  // the last group) exactly when there are more slots than columns.
  const bool ragged = xstride != v.cols;
  for (unsigned rr = 0; rr < R; ++rr)
    for (unsigned m = 0; m < MB; ++m) acc[rr][m] = 0.f;
  unsigned live = 0;  // rows of this warp inside the matrix
  while (live < R && r0 + live < v.rows) ++live;

  for (uint32_t b = lane; b < v.row_blocks; b += 32) {
    uint32_t words[R][W];
    for (unsigned rr = 0; rr < R; ++rr)
      if (rr < live) load_block<BITS>(v, r0 + rr, b, words[rr]);
    BlockTable t[R];
    uint32_t g_table = ~0u;             // the group t[] holds
    for (unsigned c = 0; c < 4; ++c) {  // 8 codes at a time: one 16-byte activation load per vector
      const uint32_t q0 = b * 32 + 8 * c, g = q0 / v.gstride, i0 = q0 - g * v.gstride;
      const uint32_t len = g < v.groups_per_row ? group_len(v, g) : 0;
      const uint32_t valid = len <= i0 ? 0 : len - i0;  // real codes from this chunk on
      if (g != g_table && len > 0) {
        for (unsigned rr = 0; rr < R; ++rr)
          if (rr < live) t[rr] = block_table<BITS>(v, tables, sop_scale, r0 + rr, g, lane_tbl + rr * E * 32, 32);
        g_table = g;
      }
      float w[R][8];
      for (unsigned rr = 0; rr < R; ++rr)
        for (unsigned j = 0; j < 8; ++j) {
          const bool real = !ragged || j < valid;
          const unsigned code = rr < live && real ? block_code<BITS>(words[rr], 8 * c + j) : 0u;
          w[rr][j] = rr < live && real ? table_weight(t[rr], code) : 0.f;  // padding: never inf * 0
        }
      for (unsigned m = 0; m < MB; ++m) {
        if (m >= nb) break;
        const Words4 xv = load16_ro(xp + uint64_t(m) * xstride + uint64_t(b) * 32 + 8 * c);
        float xf[8];
        for (unsigned j = 0; j < 8; ++j) xf[j] = Act::to_float(uint16_t(xv.w[j / 2] >> (16 * (j & 1))));
        for (unsigned rr = 0; rr < R; ++rr)
          for (unsigned j = 0; j < 8; ++j) acc[rr][m] = fmaf(w[rr][j], xf[j], acc[rr][m]);
      }
    }
  }
  if (v.out_row_ptr)
    for (unsigned rr = 0; rr < live; ++rr) {
      const uint32_t r = r0 + rr;
      for (uint32_t e = v.out_row_ptr[r] + lane; e < v.out_row_ptr[r + 1]; e += 32) {
        const float res = v.out_residual[e];
        const uint32_t p = padded_pos(v, v.out_col[e]);
        for (unsigned m = 0; m < MB; ++m)
          if (m < nb) acc[rr][m] = fmaf(res, Act::to_float(xp[uint64_t(m) * xstride + p]), acc[rr][m]);
      }
    }
}

// Calls f(Config<BITS, MB>{}, Act{}) with the compile-time configuration for
// a layer's index width, a batch (1..16) and an activation type: one place
// decides which kernel instantiations exist, for the launcher and the emulator.
template <unsigned BITS_, unsigned MB_>
struct FastConfig {
  static constexpr unsigned kBits = BITS_, kBatch = MB_, kRows = FastRows<MB_>::value;
};

template <unsigned BITS, class F>
void fast_dispatch_batch(uint32_t batch, bool bf16, F&& f) {
  auto with_act = [&](auto cfg) {
    if (bf16)
      f(cfg, Bf16Bits{});
    else
      f(cfg, F16Bits{});
  };
  if (batch <= 1)
    with_act(FastConfig<BITS, 1>{});
  else if (batch <= 2)
    with_act(FastConfig<BITS, 2>{});
  else if (batch <= 4)
    with_act(FastConfig<BITS, 4>{});
  else if (batch <= 8)
    with_act(FastConfig<BITS, 8>{});
  else
    with_act(FastConfig<BITS, 16>{});
}

template <class F>
void fast_dispatch(unsigned bits, uint32_t batch, bool bf16, F&& f) {
  switch (bits) {
    case 2: return fast_dispatch_batch<2>(batch, bf16, f);
    case 3: return fast_dispatch_batch<3>(batch, bf16, f);
    case 4: return fast_dispatch_batch<4>(batch, bf16, f);
    case 5: return fast_dispatch_batch<5>(batch, bf16, f);
    case 6: return fast_dispatch_batch<6>(batch, bf16, f);
    default: return fast_dispatch_batch<8>(batch, bf16, f);
  }
}

// Rows-per-warp for a batch, as fast_dispatch picks it.
inline unsigned fast_rows_for_batch(uint32_t batch) { return batch <= 1 ? FastRows<1>::value : FastRows<2>::value; }

}  // namespace lutc::kernels::cuda

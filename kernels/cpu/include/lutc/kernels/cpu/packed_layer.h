#pragma once
// The kernels' own form of a QuantizedLayer, built once (pack_layer) and read
// by every kernel. What changes against the container, and why:
//  - Every scheme becomes "rows x groups, each group one table of 2^b values":
//    fp8.e4m3 is one group per row sharing the layer's table; a sop block of
//    B elements is one group whose table is its codebook times its signed
//    block scale. The kernels then have one loop shape for all schemes.
//  - Each group's codes start on a fresh 32-element block (groups padded with
//    code 0, and the activations with zeros), so no SIMD block straddles two
//    tables and rows start aligned. The exception is the dense layout of sop
//    blocks of 8 or 16: padding them to 32 would stream 2x or 4x the code
//    bytes of the headline formats, so there 32/group whole groups share a
//    block (group g in elements g*group .. g*group+group-1 of the row), and
//    only the row's end is padded to a block. The GPU uploads this layout as
//    it is.
//  - 4-bit codes are reordered inside each block of 32: byte j holds code j
//    in its low nibble and code j+16 in its high nibble, so one AND and one
//    shift give two runs of 16 codes in activation order.
//  - Metadata keeps its stored width (fp16 scales, fp16 codebooks): it is
//    read once per group, and widening it here would add DRAM traffic. sop
//    block scale codes take one byte each when the format's code fits in 8
//    bits (every format but the 9- and 10-bit paired/signed UE4M4 ones), so
//    b16 streams 0.5 bits per weight of scales instead of 1.
//  - Outliers carry their fp32 residual and the exact decoded value at their
//    position (dense + residual, rounded once as the golden decode does).
//  - The matrix weight exponent Ew of the golden GEMV is computed here, once.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "lutc/model/layer.h"

namespace lutc::kernels {

constexpr uint32_t kBlock = 32;  // elements per SIMD block of codes

// 64-byte aligned, zero-initialized bytes, with at least 64 readable bytes
// past size(): a kernel may load 16 bytes from any code position of a row.
class AlignedBytes {
 public:
  AlignedBytes() = default;
  explicit AlignedBytes(size_t n);
  uint8_t* data() { return p_.get(); }
  const uint8_t* data() const { return p_.get(); }
  size_t size() const { return n_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, Free> p_;
  size_t n_ = 0;
};

struct PackedLayer {
  Scheme scheme = Scheme::kXfpV2;
  uint32_t rows = 0, cols = 0;
  unsigned bits = 4;
  uint32_t group = 0;  // real elements per group (cols for fp8.e4m3)
  uint32_t groups_per_row = 0;
  // Elements per group slot: group rounded up to kBlock, or group itself in
  // the dense layout. Group g's codes and activations sit at elements
  // g * group_padded ... of the row (padded coordinates).
  uint32_t group_padded = 0;
  // Index bytes per group slot (group_padded * bits / 8). In the dense layout
  // with 4-bit codes this is a size, not an offset: a block's nibble order
  // interleaves its groups (packed_code_at() finds a code).
  size_t group_bytes = 0;
  size_t row_bytes = 0;  // index bytes per row (whole blocks)
  AlignedBytes indices;  // rows * row_bytes

  // Table sources, by scheme:
  //  xfp.v2   : group_half = fp16 codebooks [rows*gpr][2^b]
  //  xfp.v2a  : group_ids [rows*gpr]; shared = fp32 library [32][2^b]
  //  int4.g128: group_half = fp16 (scale, zero) pairs [rows*gpr][2]
  //  nf4.b64  : group_half = fp16 absmax [rows*gpr]; shared = fp32 NF4 levels [16]
  //  fp8.e4m3 : shared = the 256 fp32 values of e4m3 * 2^layer_scale_exp
  //  sop      : block scale codes [rows*gpr] in sop_code8 when the
  //             format's code has <= 8 bits, else in group_half (read them
  //             with sop_code()); shared = fp32 codebooks [1 or 2][2^b];
  //             sop_scale / sop_book per scale code
  std::vector<uint16_t> group_half;
  std::vector<uint8_t> sop_code8;
  std::vector<uint8_t> group_ids;
  std::vector<float> shared;
  // sop: each scale code's signed value times 2^layer_scale_exp (the golden
  // decode's fp32 scale, so codebook * sop_scale[c] is its one product) and
  // the codebook its selection bit picks. At most 2^10 codes: an L1 lookup
  // instead of unpacking the code in every group.
  std::vector<float> sop_scale;
  std::vector<uint8_t> sop_book;
  uint16_t sop_sel_mask = 0;  // paired sop: the scale code bit that picks the book (sop_book, as a bit)
  // i8 path, 4-bit layers with shared tables (nf4.b64: 1, xfp.v2a: 32, sop: 1 or 2): each
  // shared table rounded to int8 once, and its scale.
  std::vector<int8_t> shared_i8;
  std::vector<float> shared_i8_scale;
  // i8 path, xfp.v2 with 4-bit codes: each group's codebook rounded to int8
  // once ([rows*gpr][16]) and its scale, so the i8 rows read 20 bytes per
  // group instead of rounding 32 bytes of fp16 in every call.
  std::vector<int8_t> group_i8;
  std::vector<float> group_i8_scale;

  // Outliers, CSR by row (row_ptr empty when there are none).
  std::vector<uint32_t> out_row_ptr, out_col;
  std::vector<float> out_residual;  // fp32 of the fp16 residual
  std::vector<float> out_exact;     // golden decoded value at (row, col)
  std::vector<float> out_dense;     // the dense decode there, before the residual

  int32_t layer_scale_exp = 0;  // fp8.e4m3
  int weight_exp = 0;           // Ew of the golden GEMV for this matrix
  // Largest |dense decoded value| any element refers to (outlier positions
  // included): bounds the integer weights the exact path multiplies.
  float dense_abs_max = 0;

  // Whole blocks of 32 per row.
  uint32_t padded_cols() const { return (groups_per_row * group_padded + kBlock - 1) / kBlock * kBlock; }
  bool dense() const { return group_padded < kBlock; }
  bool needs_padding() const { return padded_cols() != cols || groups_per_row * group != cols; }
  // Bytes a GEMV reads from this layer per pass (indices + per-group
  // metadata + outliers); the basis of every GB/s figure. The i8 path of
  // xfp.v2 reads group_i8 in place of the fp16 codebooks (i8_streamed_bytes).
  size_t streamed_bytes() const;
  size_t i8_streamed_bytes() const;
  // Bytes the packed form holds in memory.
  size_t memory_bytes() const;
};

// The scale code of sop group gi (row-major over rows x groups), from
// whichever array holds the layer's codes.
inline unsigned sop_code(const PackedLayer& p, size_t gi) {
  return p.sop_code8.empty() ? p.group_half[gi] : p.sop_code8[gi];
}

// Whether pack_layer gives l the dense layout: sop blocks of 8 or 16.
bool dense_layout(const QuantizedLayer& l);

// The code at element e (padded coordinates) of row r, in either layout.
inline unsigned packed_code_at(const PackedLayer& p, uint32_t r, uint32_t e) {
  const uint8_t* row = p.indices.data() + size_t(r) * p.row_bytes;
  if (p.bits == 4) {
    const uint8_t b = row[e / kBlock * (kBlock / 2) + e % (kBlock / 2)];
    return e % kBlock < kBlock / 2 ? b & 15u : unsigned(b >> 4);
  }
  if (p.bits == 8) return row[e];
  const uint64_t bit = uint64_t(e) * p.bits;
  const unsigned shift = unsigned(bit & 7);
  unsigned v = row[bit >> 3] >> shift;
  if (shift + p.bits > 8) v |= unsigned(row[(bit >> 3) + 1]) << (8 - shift);
  return v & ((1u << p.bits) - 1u);
}

// Throws Error(kBadInput) for any layer validate() rejects, and when a decoded weight is not finite (the golden
// GEMV rejects those too).
PackedLayer pack_layer(const QuantizedLayer& layer);
// A deep copy at a new address (benchmarks rotate copies to defeat caches).
PackedLayer copy_packed(const PackedLayer& p);

}  // namespace lutc::kernels

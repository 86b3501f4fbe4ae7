#pragma once
// What the LUTs of a layer hold, per scheme (docs/hif.md "What a LUT holds"),
// and the HIF-rounded weights they decode to. Every scheme becomes the same
// datapath: LUT[book][code] (a HIF word) x block scale (fp16, 1.0 when the
// scheme has none), plus the outlier residual.
//   xfp.v2   one book per (row, group): the row's codebook
//   xfp.v2a  the 32-book library; the group's id selects the book
//   int4.g128 16 books, book z holds q - z for q = 0..15; the group's zero
//             point selects the book, its fp16 scale is the block scale
//   nf4.b64  one book: the NF4 table; the fp16 absmax is the block scale
//   fp8.e4m3 one book of 256 entries: e4m3(q) * 2^layer_scale_exp (NaN codes
//            hold 0; the layer validator rejects indices that use them)
//   sop      one book (two for a pair): codebook * 2^layer_scale_exp; the
//            block's selection bit is the book id, its signed UE4Mx scale
//            (exact in fp16) the block scale
#include <cstdint>
#include <string>
#include <vector>

#include "lutc/compiler/hif.h"
#include "lutc/model/layer.h"
#include "lutc/spec/book_select.h"

namespace lutc {

struct LayerLuts {
  uint32_t entries = 0;  // 2^bits words per book
  BookSelect select = BookSelect::kFixed;
  bool has_scale = false;     // metadata carries an fp16 block scale
  bool has_id = false;        // metadata carries a book id
  uint32_t group = 0;         // elements per group along K (cols when the scheme has none)
  std::vector<float> values;  // books x entries, the exact fp32 entries
  std::vector<HifBook> books;
};

LayerLuts layer_lut_values(const QuantizedLayer& layer);  // values only, books empty
LayerLuts lower_layer_luts(const QuantizedLayer& layer, const HifFormat& hif);

// Book and fp16 block scale of (row, group). Scale 0x3c00 (1.0) when none;
// for sop the UE4Mx magnitude, negative when the block's sign bit is set.
uint32_t group_book(const QuantizedLayer& layer, const LayerLuts& luts, uint32_t row, uint32_t g);
uint16_t group_scale(const QuantizedLayer& layer, uint32_t row, uint32_t g);

// W_hif for rows [r0, r0+n): HIF value x scale (exact in fp32), then the
// outlier residual added in fp32 as the golden decode adds it. With lossless
// HIF this equals golden_decode_rows.
void hif_decode_rows(const QuantizedLayer& layer, const LayerLuts& luts, const HifFormat& hif, uint32_t r0, uint32_t n,
                     float* out, bool with_outliers = true);
std::vector<float> hif_weights(const QuantizedLayer& layer, const HifFormat& hif);

struct ArchConfig;
// The golden GEMV for an arch (`lutc gemv --arch`, lutc.gemv(arch=...)): the
// arch's act_bits, and the HIF-rounded weights its LUTs hold, identical to
// the golden decode when the HIF is lossless. x is batch x cols, y batch x rows.
void arch_golden_gemv(const QuantizedLayer& layer, const ArchConfig& arch, const float* x, uint32_t batch, float* y);

// The error HIF adds on top of the golden decode, over the whole layer.
struct HifErrorReport {
  double max_abs_error = 0;
  double sqnr_db = 0;            // 10 log10(sum W^2 / sum (W_hif - W)^2); +inf when exact
  uint64_t changed_entries = 0;  // LUT entries whose value HIF changed
  uint64_t total_entries = 0;
  bool lossless() const { return changed_entries == 0; }
};
HifErrorReport measure_hif_error(const QuantizedLayer& layer, const LayerLuts& luts, const HifFormat& hif);

}  // namespace lutc

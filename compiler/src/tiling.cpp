// Tile sizing: start from all lanes busy and whole rows, halve the column
// chunk first (keeps lanes busy), then the rows, until every buffer fits.
#include "lutc/compiler/tiling.h"

#include <algorithm>

#include "lutc/compiler/program.h"
#include "lutc/model/bitpack.h"
#include "lutc/model/error.h"

namespace lutc {
namespace {

uint32_t ceil_div(uint64_t a, uint64_t b) { return uint32_t((a + b - 1) / b); }

// Empty when (rows, cols) fits; otherwise the violated constraint.
std::string check_fit(const QuantizedLayer& l, const LayerLuts& t, const ArchConfig& a, uint32_t R, uint32_t C) {
  const uint32_t row_tiles = ceil_div(l.rows, R), col_tiles = ceil_div(l.cols, C);
  const bool dbl = uint64_t(row_tiles) * col_tiles > 1;
  const uint64_t act_need = uint64_t(C) * (a.act_bits / 8) * (col_tiles > 1 ? 2 : 1);
  if (act_need > a.act_sram_bytes())
    return "an activation chunk of " + std::to_string(C) + " elements needs " + std::to_string(act_need) +
           " bytes (double-buffered), sram.act_kib gives " + std::to_string(a.act_sram_bytes());
  const uint64_t slots = uint64_t(a.lut_banks) * (a.lut_bank_words / t.entries);
  const uint64_t wbuf = dbl ? a.weight_sram_bytes() / 2 : a.weight_sram_bytes();
  const OutlierCsr& o = l.outliers;
  std::vector<uint64_t> outl(col_tiles);
  for (uint32_t rt = 0; rt < row_tiles; ++rt) {
    const uint32_t r0 = rt * R, rows = std::min(R, l.rows - r0);
    std::fill(outl.begin(), outl.end(), 0);
    if (!o.row_ptr.empty())
      for (uint32_t r = r0; r < r0 + rows; ++r)
        for (uint32_t j = o.row_ptr[r]; j < o.row_ptr[r + 1]; ++j) ++outl[o.col[j] / C];
    for (uint32_t ct = 0; ct < col_tiles; ++ct) {
      const uint32_t k0 = ct * C, cols = std::min(C, l.cols - k0);
      const uint64_t bytes = tile_sram_bytes(l, t, rows, k0, cols, outl[ct]);
      if (bytes > wbuf)
        return "a tile of " + std::to_string(rows) + " x " + std::to_string(cols) + " needs " + std::to_string(bytes) +
               " bytes of weight SRAM per buffer, sram.weight_kib gives " + std::to_string(wbuf);
      if (t.select == BookSelect::kPerGroup) {
        const uint64_t books = uint64_t(rows) * groups_in_chunk(k0, cols, t.group);
        const uint64_t have = dbl ? slots / 2 : slots;
        if (books > have)
          return "a tile of " + std::to_string(rows) + " x " + std::to_string(cols) + " needs " +
                 std::to_string(books) + " codebooks in the LUT, which holds " + std::to_string(have) +
                 " per buffer (lut.banks x lut.bank_words / " + std::to_string(t.entries) + ")";
      }
    }
    // Only the first row tile can differ from the others in outliers; check all
    // anyway: outlier counts vary per tile.
  }
  return "";
}

}  // namespace

uint32_t meta_format_of(const LayerLuts& t) {
  return t.has_id ? (t.has_scale ? kMetaIdScale : kMetaId) : (t.has_scale ? kMetaScale : kMetaNone);
}

uint64_t tile_sram_bytes(const QuantizedLayer& l, const LayerLuts& t, uint32_t rows, uint32_t k0, uint32_t cols,
                         uint64_t outliers) {
  const uint64_t idx = packed_bytes(uint64_t(rows) * cols, l.bits);
  const uint64_t meta = uint64_t(rows) * groups_in_chunk(k0, cols, t.group) * meta_record_bytes(meta_format_of(t));
  return align8(idx) + align8(meta) + outliers * kOutlierRecordBytes;
}

TilePlan plan_tiles(const QuantizedLayer& l, const LayerLuts& t, const ArchConfig& a) {
  auto fail = [&](const std::string& what) {
    fail_input("", l.name, -1,
               std::string("cannot lower ") + scheme_name(l.scheme) + " for arch '" + a.name + "': " + what);
  };
  if (t.entries > a.lut_bank_words)
    fail("a codebook of " + std::to_string(t.entries) +
         " entries is larger than a LUT bank (lut.bank_words = " + std::to_string(a.lut_bank_words) + ")");
  const uint64_t slots = uint64_t(a.lut_banks) * (a.lut_bank_words / t.entries);
  const uint64_t books = t.values.size() / t.entries;
  if (t.select != BookSelect::kPerGroup && books > slots)
    fail("its " + std::to_string(books) + " codebooks of " + std::to_string(t.entries) + " entries need " +
         std::to_string(books * t.entries) + " LUT words, the LUT holds " + std::to_string(slots * t.entries) +
         " in whole codebooks (lut.banks x lut.bank_words)");
  uint32_t R = std::min(a.lanes, l.rows), C = l.cols;
  for (;;) {
    const std::string why = check_fit(l, t, a, R, C);
    if (why.empty()) break;
    if (C > 64) {
      C = ceil_div(C, 2);
      if (C > t.group) C = std::min(l.cols, ceil_div(C, t.group) * t.group);
    } else if (R > 1) {
      R = ceil_div(R, 2);
    } else if (C > 1) {
      C = ceil_div(C, 2);
    } else {
      fail(why);
    }
  }
  TilePlan p;
  p.tile_rows = R;
  p.tile_cols = C;
  p.row_tiles = ceil_div(l.rows, R);
  p.col_tiles = ceil_div(l.cols, C);
  return p;
}

}  // namespace lutc

// Emission: LUT image, tile-major DRAM segments and the instruction stream.
// Tile t+1's DMA (and, for xfp.v2, its codebooks) is issued before tile t's
// DECODE_MAC into the other buffer half; the SYNC after tile t is the only
// point where the next tile's data must have arrived.
#include "lutc/compiler/compile_layer.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "lutc/compiler/fixed_point.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/bitpack.h"
#include "lutc/model/error.h"

namespace lutc {
namespace {

using isa::CfgReg;
using isa::Instruction;
using isa::Op;

Instruction insn(Op op, std::initializer_list<uint32_t> fields) {
  Instruction i;
  i.op = op;
  unsigned n = 0;
  for (uint32_t f : fields) i.f[n++] = f;
  return i;
}

class Emitter {
 public:
  Emitter(const QuantizedLayer& l, const LayerLuts& t, const FixedPointLayer& fp, const TilePlan& plan, Program& p)
      : l_(l), t_(t), fp_(fp), plan_(plan), p_(p) {
    const ArchConfig& a = p.arch;
    slots_ = p.lut_slots();
    half_slots_ = plan.double_buffered() ? slots_ / 2 : 0;
    wbuf_ = plan.double_buffered() ? a.weight_sram_bytes() / 2 : 0;
    act_bytes_ = a.act_bits / 8;
    abuf_ = plan.col_tiles > 1 ? uint32_t(a.act_sram_bytes() / 2) : 0;
    meta_format_ = meta_format_of(t);
    meta_bytes_ = meta_record_bytes(meta_format_);
  }

  void run() {
    emit_cfg();
    if (t_.select != BookSelect::kPerGroup) {
      const uint32_t n = uint32_t(t_.books.size());
      for (uint32_t b = 0; b < n; ++b) add_lut_record(b, b);
      emit(Op::LUT_LOAD, {0, n});
    }
    const uint32_t T = plan_.tiles();
    prefetch(0);
    emit(Op::SYNC, {isa::kSyncMaskAll});
    for (uint32_t tile = 0; tile < T; ++tile) {
      if (tile + 1 < T) prefetch(tile + 1);
      compute(tile);
      if (tile + 1 < T) emit(Op::SYNC, {isa::kSyncMaskAll});
    }
    emit(Op::END, {});
  }

 private:
  struct Tile {
    uint32_t r0, rows, k0, cols, buf;
  };
  Tile tile_of(uint32_t t) const {
    Tile x;
    const uint32_t rt = t / plan_.col_tiles, ct = t % plan_.col_tiles;
    x.r0 = rt * plan_.tile_rows;
    x.rows = std::min(plan_.tile_rows, l_.rows - x.r0);
    x.k0 = ct * plan_.tile_cols;
    x.cols = std::min(plan_.tile_cols, l_.cols - x.k0);
    x.buf = t % 2;
    return x;
  }

  void emit(Op op, std::initializer_list<uint32_t> f) { p_.code.push_back(insn(op, f)); }

  void emit_cfg() {
    emit(Op::CFG, {uint32_t(CfgReg::SCHEME), uint32_t(l_.scheme)});
    emit(Op::CFG, {uint32_t(CfgReg::BITS), l_.bits});
    emit(Op::CFG, {uint32_t(CfgReg::GROUP), t_.group});
    emit(Op::CFG, {uint32_t(CfgReg::BOOK_SELECT), uint32_t(t_.select)});
    emit(Op::CFG, {uint32_t(CfgReg::META), meta_format_});
    emit(Op::CFG, {uint32_t(CfgReg::WEIGHT_EXP), uint32_t(fp_.weight_exp)});
  }

  void add_lut_record(uint32_t book, uint32_t slot) {
    LutRecord r;
    r.bank = slot % p_.arch.lut_banks;
    r.addr = (slot / p_.arch.lut_banks) * t_.entries;
    r.base = t_.books[book].base;
    r.words = t_.books[book].words;
    p_.lut_image.push_back(std::move(r));
  }

  // DRAM data of tile t, appended to the segments; DMA_IN (and LUT_LOAD) into buffer half.
  void prefetch(uint32_t t) {
    const Tile x = tile_of(t);
    const uint32_t gpt = groups_in_chunk(x.k0, x.cols, t_.group), g0 = x.k0 / t_.group;
    auto& idx = p_.segments[uint32_t(isa::Segment::INDICES)];
    auto& meta = p_.segments[uint32_t(isa::Segment::META)];
    auto& outl = p_.segments[uint32_t(isa::Segment::OUTLIERS)];
    // Indices: the tile's codes row by row, one little-endian bit stream.
    std::vector<uint8_t> codes(size_t(x.rows) * x.cols);
    for (uint32_t r = 0; r < x.rows; ++r)
      unpack_indices(l_.indices.data(), uint64_t(x.r0 + r) * l_.cols + x.k0, x.cols, l_.bits,
                     codes.data() + size_t(r) * x.cols);
    const uint32_t idx_off = uint32_t(idx.size());
    const size_t idx_bytes = packed_bytes(codes.size(), l_.bits);
    idx.resize(idx_off + idx_bytes);
    pack_indices(codes.data(), codes.size(), l_.bits, idx.data() + idx_off);
    // Metadata: one record per (row, group of the chunk).
    const uint32_t meta_off = uint32_t(meta.size());
    for (uint32_t r = 0; r < x.rows; ++r)
      for (uint32_t g = 0; g < gpt && meta_bytes_; ++g) {
        const uint32_t book = group_book(l_, t_, x.r0 + r, g0 + g);
        const uint16_t scale = group_scale(l_, x.r0 + r, g0 + g);
        const size_t at = meta.size();
        meta.resize(at + meta_bytes_);
        write_meta_record(meta_format_, {uint8_t(book), scale}, meta.data() + at);
      }
    const uint32_t meta_len = uint32_t(meta.size() - meta_off);
    // Outliers of the tile: (row in tile, column in chunk, correction).
    const uint32_t outl_off = uint32_t(outl.size());
    const OutlierCsr& o = l_.outliers;
    if (!o.row_ptr.empty())
      for (uint32_t r = 0; r < x.rows; ++r)
        for (uint32_t j = o.row_ptr[x.r0 + r]; j < o.row_ptr[x.r0 + r + 1]; ++j) {
          if (o.col[j] < x.k0 || o.col[j] >= x.k0 + x.cols) continue;
          const size_t at = outl.size();
          outl.resize(at + kOutlierRecordBytes);
          write_outlier_record({r, o.col[j] - x.k0, fp_.outlier_delta[j]}, outl.data() + at);
        }
    const uint32_t outl_len = uint32_t(outl.size() - outl_off);
    tile_outliers_.push_back(outl_len / kOutlierRecordBytes);

    const uint32_t wbase = x.buf * wbuf_;
    const uint32_t idx_addr = wbase;
    const uint32_t meta_addr = uint32_t(idx_addr + align8(idx_bytes));
    const uint32_t outl_addr = uint32_t(meta_addr + align8(meta_len));
    tile_addr_.push_back({idx_addr, meta_addr, outl_addr});
    emit(Op::DMA_IN, {uint32_t(isa::Segment::INDICES), idx_off, idx_addr, uint32_t(idx_bytes)});
    if (meta_len) emit(Op::DMA_IN, {uint32_t(isa::Segment::META), meta_off, meta_addr, meta_len});
    if (outl_len) emit(Op::DMA_IN, {uint32_t(isa::Segment::OUTLIERS), outl_off, outl_addr, outl_len});
    if (plan_.col_tiles > 1 || t == 0)
      emit(Op::DMA_IN, {uint32_t(isa::Segment::ACT), x.k0 * act_bytes_, x.buf * abuf_, x.cols * act_bytes_});
    if (t_.select == BookSelect::kPerGroup) {
      const uint32_t first = uint32_t(p_.lut_image.size()), slot0 = x.buf * half_slots_;
      for (uint32_t r = 0; r < x.rows; ++r)
        for (uint32_t g = 0; g < gpt; ++g) add_lut_record(group_book(l_, t_, x.r0 + r, g0 + g), slot0 + r * gpt + g);
      emit(Op::LUT_LOAD, {first, x.rows * gpt});
    }
  }

  void compute(uint32_t t) {
    const Tile x = tile_of(t);
    const auto& ad = tile_addr_[t];
    const uint32_t slot0 = t_.select == BookSelect::kPerGroup ? x.buf * half_slots_ : 0;
    const uint32_t act = plan_.col_tiles > 1 ? x.buf * abuf_ : 0;
    emit(Op::DECODE_MAC, {x.rows, x.cols, x.k0, ad[0], ad[1], slot0, act});
    if (tile_outliers_[t]) emit(Op::OUTLIER, {ad[2], tile_outliers_[t], act});
    if (x.k0 + x.cols == l_.cols) emit(Op::STORE, {x.r0, x.rows});
  }

  const QuantizedLayer& l_;
  const LayerLuts& t_;
  const FixedPointLayer& fp_;
  const TilePlan& plan_;
  Program& p_;
  uint32_t slots_ = 0, half_slots_ = 0, wbuf_ = 0, act_bytes_ = 0, abuf_ = 0;
  uint32_t meta_format_ = 0, meta_bytes_ = 0;
  std::vector<std::array<uint32_t, 3>> tile_addr_;
  std::vector<uint32_t> tile_outliers_;
};

void check_accumulator(const std::string& layer, uint32_t acc_bits_needed, const ArchConfig& arch) {
  if (acc_bits_needed > arch.acc_bits)
    fail_input("", layer, -1,
               "needs a " + std::to_string(acc_bits_needed) +
                   "-bit accumulator (sum of |weight| x max |activation|), core.acc_bits of arch '" + arch.name +
                   "' is " + std::to_string(arch.acc_bits));
}

// Reads only the kCode keys of `arch` (docs/arch.md "What a program depends
// on") and, with check_limits, the kLimit ones; the embedded arch is copied.
Program compile(const QuantizedLayer& l, const ArchConfig& arch, CompileReport* report, bool check_limits) {
  validate(l);
  const HifFormat hif{arch.hif_mant_bits, arch.hif_shift_bits};
  const LayerLuts luts = lower_layer_luts(l, hif);
  const TilePlan plan = plan_tiles(l, luts, arch);
  const FixedPointLayer fp = fixed_point_layer(l, luts, hif, arch.act_bits);
  if (check_limits) check_accumulator(l.name, fp.acc_bits_needed, arch);
  Program p;
  p.arch = arch;
  p.arch_text = canonical_arch_text(arch);
  p.arch_hash = arch_hash(arch);
  p.meta.layer = l.name;
  p.meta.scheme = l.scheme;
  p.meta.bits = l.bits;
  p.meta.rows = l.rows;
  p.meta.cols = l.cols;
  p.meta.group = luts.group;
  p.meta.weight_exp = fp.weight_exp;
  p.meta.tile_rows = plan.tile_rows;
  p.meta.tile_cols = plan.tile_cols;
  p.meta.acc_bits_needed = fp.acc_bits_needed;
  Emitter(l, luts, fp, plan, p).run();
  if (report) {
    report->plan = plan;
    report->hif = measure_hif_error(l, luts, hif);
    report->program_bytes = serialize_lutp(p).size();
  }
  return p;
}

}  // namespace

Program compile_layer(const QuantizedLayer& l, const ArchConfig& arch, CompileReport* report) {
  return compile(l, arch, report, /*check_limits=*/true);
}

Program compile_layer_for_code(const QuantizedLayer& l, const ArchConfig& arch, CompileReport* report) {
  return compile(l, arch, report, /*check_limits=*/false);
}

void check_arch_limits(const ProgramMeta& meta, const ArchConfig& arch) {
  check_accumulator(meta.layer, meta.acc_bits_needed, arch);
}

void check_retarget(const ArchConfig& from, const ProgramMeta& meta, const ArchConfig& to) {
  if (arch_code_key(from) != arch_code_key(to)) {
    // Name the keys that differ: the caller grouped archs wrongly.
    const std::string a = arch_code_text(from), b = arch_code_text(to);
    std::string diff;
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
      const size_t ie = a.find('\n', i), je = b.find('\n', j);
      const std::string la = a.substr(i, ie - i), lb = b.substr(j, je - j);
      if (la != lb) diff += (diff.empty() ? "" : ", ") + la + " vs " + lb.substr(lb.find('=') + 1);
      i = ie + 1;
      j = je + 1;
    }
    fail_input("", meta.layer, -1,
               "cannot retarget a program to arch '" + to.name + "': it differs in keys that shape the code (" + diff +
                   "); compile it for that arch");
  }
  check_arch_limits(meta, to);
}

Program retarget(Program p, const ArchConfig& arch) {
  check_retarget(p.arch, p.meta, arch);
  p.arch = arch;
  p.arch_text = canonical_arch_text(arch);
  p.arch_hash = arch_hash(arch);
  return p;
}

}  // namespace lutc

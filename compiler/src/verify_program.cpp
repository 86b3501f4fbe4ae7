// The static half of the program contract: everything that can be checked
// without activations. What depends on data in SRAM (metadata book ids,
// outlier record fields) is checked by the executor as it reads it.
//
// This is also the one per-opcode table of which SRAM ranges an instruction
// touches: each range is checked and, when a footprint is asked for, recorded
// in the same call (sram()), so memory_footprint cannot drift from the checks.
#include "lutc/compiler/verify_program.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "lutc/compiler/memory_footprint.h"
#include "lutc/compiler/tiling.h"
#include "lutc/model/bitpack.h"
#include "lutc/model/error.h"

namespace lutc {

namespace F = isa::fields;
namespace {

class Verifier {
 public:
  Verifier(const Program& p, const std::string& origin, MemoryFootprint* footprint)
      : p_(p), origin_(origin), fp_(footprint) {}

  void run() {
    check_meta();
    check_lut_image();
    bool ended = false;
    for (size_t i = 0; i < p_.code.size(); ++i) {
      at_ = i;
      if (ended) fail("instruction after END");
      const isa::Instruction& in = p_.code[i];
      switch (in.op) {
        case isa::Op::CFG: cfg(in); break;
        case isa::Op::LUT_LOAD: lut_load(in); break;
        case isa::Op::DMA_IN: dma(in); break;
        case isa::Op::DECODE_MAC: decode_mac(in); break;
        case isa::Op::OUTLIER: outlier(in); break;
        case isa::Op::STORE: store(in); break;
        case isa::Op::SYNC:
          if (in.f[F::SYNC::mask] & ~isa::kSyncMaskAll)
            fail("SYNC mask " + std::to_string(in.f[F::SYNC::mask]) + " has bits other than 1 (DMA) and 2 (LUT)");
          break;
        case isa::Op::END: ended = true; break;
      }
    }
    at_ = p_.code.size();
    if (!ended) fail("program does not end with END");
    check_shape_is_addressed();
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    const std::string where =
        at_ < p_.code.size() ? "instruction " + std::to_string(at_) + " (" + isa::op_info(p_.code[at_].op).name + "): "
                             : "";
    fail_input(origin_, p_.meta.layer, -1, where + what);
  }
  void range(const char* what, uint64_t first, uint64_t len, uint64_t limit) const {
    if (first > limit || len > limit - first)
      fail(std::string(what) + " [" + std::to_string(first) + ", " + std::to_string(first + len) + ") outside [0, " +
           std::to_string(limit) + ")");
  }
  // A static SRAM access: checked against the memory's size, then recorded.
  void sram(AddressMap MemoryFootprint::*memory, const char* what, uint64_t first, uint64_t len, uint64_t limit) {
    range(what, first, len, limit);
    if (fp_) (fp_->*memory).add(first, len);
  }
  void lanes_used(uint32_t rows) {
    if (fp_) fp_->lanes = std::max(fp_->lanes, rows);
  }

  void check_meta() {
    const ProgramMeta& m = p_.meta;
    if (!m.rows || !m.cols) fail("empty layer shape");
    if (!m.group) fail("group is zero");
    if (!m.tile_rows || m.tile_rows > p_.arch.lanes) fail("tile rows outside [1, lanes]");
    if (m.weight_exp < -1000 || m.weight_exp > 1000) fail("weight exponent out of range");
    if (m.acc_bits_needed > p_.arch.acc_bits) fail("needs a wider accumulator than the arch has");
    if (p_.entries() > p_.arch.lut_bank_words) fail("a codebook is larger than a LUT bank");
  }

  // The header's rows and cols size the host's buffers (outputs, the
  // executor's row bookkeeping), so they must be what the code addresses: a
  // crafted rows = 2^28 would otherwise allocate gigabytes for a 64-row layer.
  // Every output row is stored (the executor would refuse the gap at END)
  // and the last column tile ends at cols (compile_layer tiles all of them).
  void check_shape_is_addressed() {
    const ProgramMeta& m = p_.meta;
    std::sort(stores_.begin(), stores_.end());
    uint64_t covered = 0;
    for (const auto& s : stores_) {
      if (s.first > covered) break;
      covered = std::max<uint64_t>(covered, s.second);
    }
    if (covered < m.rows)
      fail("header rows = " + std::to_string(m.rows) + ", but the program's STOREs cover output rows [0, " +
           std::to_string(covered) + ") only");
    if (max_col_end_ != m.cols)
      fail("header cols = " + std::to_string(m.cols) + ", but the program's DECODE_MACs read columns [0, " +
           std::to_string(max_col_end_) + ")");
  }

  void check_lut_image() {
    const uint32_t entries = p_.entries();
    const uint32_t word_limit_bits = p_.arch.hif_word_bits();
    for (size_t i = 0; i < p_.lut_image.size(); ++i) {
      const LutRecord& r = p_.lut_image[i];
      const std::string rec = "LUT record " + std::to_string(i) + ": ";
      if (r.bank >= p_.arch.lut_banks) fail(rec + "bank " + std::to_string(r.bank) + " >= lut.banks");
      if (r.addr % entries) fail(rec + "address " + std::to_string(r.addr) + " not codebook-aligned");
      range((rec + "words").c_str(), r.addr, entries, p_.arch.lut_bank_words - p_.arch.lut_bank_words % entries);
      if (r.base < kHifMinBase || r.base > kHifMaxBase) fail(rec + "base " + std::to_string(r.base) + " out of range");
      for (uint32_t w : r.words)
        if (w >> word_limit_bits) fail(rec + "word wider than the arch's HIF word");
      if (fp_) {
        fp_->lut_banks = std::max(fp_->lut_banks, r.bank + 1);
        fp_->lut_words.add(r.addr, r.words.size());
        fp_->lut_slots.add(uint64_t(r.addr / entries) * p_.arch.lut_banks + r.bank, 1);
      }
    }
  }

  void cfg(const isa::Instruction& in) {
    const uint32_t reg = in.f[F::CFG::reg], v = in.f[F::CFG::value];
    if (reg >= isa::kCfgRegCount) fail("unknown layer register " + std::to_string(reg));
    switch (isa::CfgReg(reg)) {
      case isa::CfgReg::BITS:
        if (v != p_.meta.bits) fail("BITS " + std::to_string(v) + " differs from the header");
        break;
      case isa::CfgReg::GROUP:
        if (v != p_.meta.group) fail("GROUP differs from the header");
        break;
      case isa::CfgReg::BOOK_SELECT:
        if (v > 2) fail("BOOK_SELECT " + std::to_string(v) + " out of range");
        book_select_ = int(v);
        break;
      case isa::CfgReg::META:
        if (v > 3) fail("META " + std::to_string(v) + " out of range");
        meta_ = int(v);
        break;
      case isa::CfgReg::WEIGHT_EXP:
        if (int32_t(v) != p_.meta.weight_exp) fail("WEIGHT_EXP differs from the header");
        weight_exp_set_ = true;
        break;
      case isa::CfgReg::SCHEME:
        if (v != uint32_t(p_.meta.scheme)) fail("SCHEME differs from the header");
        break;
    }
    set_ |= 1u << reg;
  }

  void lut_load(const isa::Instruction& in) {
    range("LUT records", in.f[F::LUT_LOAD::first], in.f[F::LUT_LOAD::count], p_.lut_image.size());
  }

  void dma(const isa::Instruction& in) {
    using D = F::DMA_IN;
    const uint32_t seg = in.f[D::seg], src = in.f[D::src], dst = in.f[D::dst], bytes = in.f[D::bytes];
    if (seg >= isa::kSegmentCount) fail("unknown segment " + std::to_string(seg));
    if (seg == uint32_t(isa::Segment::ACT)) {
      range("activation source", src, bytes, uint64_t(p_.meta.cols) * act_bytes());
      sram(&MemoryFootprint::act_sram, "activation SRAM", dst, bytes, p_.arch.act_sram_bytes());
    } else {
      range("DRAM segment", src, bytes, p_.segments[seg].size());
      sram(&MemoryFootprint::weight_sram, "weight SRAM", dst, bytes, p_.arch.weight_sram_bytes());
    }
  }

  void decode_mac(const isa::Instruction& in) {
    if (set_ != (1u << isa::kCfgRegCount) - 1) fail("a layer register is not set before the first tile");
    using D = F::DECODE_MAC;
    const uint32_t rows = in.f[D::rows], cols = in.f[D::cols], k0 = in.f[D::k0], idx = in.f[D::idx],
                   meta = in.f[D::meta], slot0 = in.f[D::slot0], act = in.f[D::act];
    if (!rows || rows > p_.arch.lanes) fail("rows " + std::to_string(rows) + " outside [1, lanes]");
    lanes_used(rows);
    if (!cols) fail("zero columns");
    range("columns", k0, cols, p_.meta.cols);
    max_col_end_ = std::max(max_col_end_, k0 + cols);
    sram(&MemoryFootprint::weight_sram, "indices", idx, packed_bytes(uint64_t(rows) * cols, p_.meta.bits),
         p_.arch.weight_sram_bytes());
    const uint64_t gpt = groups_in_chunk(k0, cols, p_.meta.group);
    sram(&MemoryFootprint::weight_sram, "metadata", meta, uint64_t(rows) * gpt * meta_record_bytes(uint32_t(meta_)),
         p_.arch.weight_sram_bytes());
    const uint64_t books = book_select_ == 1 ? uint64_t(rows) * gpt : 1;
    range("LUT slots", slot0, books, p_.lut_slots());
    sram(&MemoryFootprint::act_sram, "activations", act, uint64_t(cols) * act_bytes(), p_.arch.act_sram_bytes());
  }

  void outlier(const isa::Instruction& in) {
    sram(&MemoryFootprint::weight_sram, "outlier records", in.f[F::OUTLIER::addr],
         uint64_t(in.f[F::OUTLIER::count]) * kOutlierRecordBytes, p_.arch.weight_sram_bytes());
    range("activations", in.f[F::OUTLIER::act], 0, p_.arch.act_sram_bytes());
  }

  void store(const isa::Instruction& in) {
    if (!weight_exp_set_) fail("STORE before WEIGHT_EXP is set");
    const uint32_t row0 = in.f[F::STORE::row0], rows = in.f[F::STORE::rows];
    if (!rows || rows > p_.arch.lanes) fail("rows " + std::to_string(rows) + " outside [1, lanes]");
    lanes_used(rows);
    range("output rows", row0, rows, p_.meta.rows);
    stores_.emplace_back(row0, uint64_t(row0) + rows);
  }

  uint32_t act_bytes() const { return p_.arch.act_bits / 8; }

  const Program& p_;
  const std::string& origin_;
  MemoryFootprint* fp_;  // null when only checking
  size_t at_ = 0;
  uint32_t set_ = 0;
  int book_select_ = 0, meta_ = 0;
  bool weight_exp_set_ = false;
  std::vector<std::pair<uint64_t, uint64_t>> stores_;  // [first, end) output rows of each STORE
  uint32_t max_col_end_ = 0;                           // one past the last column any DECODE_MAC reads
};

}  // namespace

void verify_program(const Program& p, const std::string& origin) { Verifier(p, origin, nullptr).run(); }

MemoryFootprint verify_and_map_program(const Program& p, const std::string& origin) {
  MemoryFootprint f;
  Verifier(p, origin, &f).run();
  return f;
}

}  // namespace lutc

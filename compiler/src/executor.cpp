// One DECODE_MAC forms, per (row, group), the 2^b integer weights the group
// can take (HIF mantissa x scale mantissa, shifted to the weight exponent Ew
// with truncation toward zero, exactly as the golden GEMV's weight_to_int),
// then multiplies them by the integer activations into the accumulators.
// Accumulation is modulo 2^128 (unsigned) so a corrupt program cannot cause
// undefined behaviour; STORE checks the result against the arch's width.
#include "lutc/compiler/executor.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "lutc/compiler/memory_footprint.h"
#include "lutc/compiler/tiling.h"
#include "lutc/model/bitpack.h"
#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "lutc/spec/activation_word.h"
#include "lutc/spec/block_scale.h"
#include "lutc/spec/book_select.h"
#include "lutc/spec/weight_int.h"

namespace lutc {
namespace {

namespace F = isa::fields;

using u128 = unsigned __int128;

class Engine {
 public:
  // Each memory holds what the program touches (memory_footprint), not the
  // arch's capacity; what it never writes reads as zero.
  Engine(const Program& p, uint32_t batch, ExecStats* st)
      : p_(p), a_(p.arch), batch_(batch), st_(st), hif_(p.hif()), lut_(p.arch.lut_banks), asram_(batch) {
    const MemoryFootprint f = memory_footprint(p);
    lut_.cover(f.lut_words);
    base_.cover(f.lut_slots);
    wsram_.cover(f.weight_sram);
    asram_.cover(f.act_sram);
    lanes_ = f.lanes;
    acc_.assign(size_t(lanes_) * batch, 0);
    book_.assign(p.entries(), 0);
    act_bytes_ = a_.act_bits / 8;
    stat().memory_bytes = lut_.allocated_bytes() + base_.allocated_bytes() + wsram_.allocated_bytes() +
                          asram_.allocated_bytes() + acc_.size() * sizeof(u128) + book_.size() * sizeof(uint32_t);
  }

  void run(const float* x, float* y) {
    // The host side: one integer vector and exponent per activation vector.
    const uint32_t K = p_.meta.cols;
    host_act_.resize(size_t(batch_) * K);
    act_exp_.resize(batch_);
    for (uint32_t m = 0; m < batch_; ++m)
      act_exp_[m] = quantize_activations(x + size_t(m) * K, K, a_.act_bits, host_act_.data() + size_t(m) * K);
    std::vector<uint8_t> stored(p_.meta.rows, 0);
    for (const isa::Instruction& in : p_.code) {
      ++stat().instructions;
      switch (in.op) {
        case isa::Op::CFG: reg_[in.f[F::CFG::reg]] = int32_t(in.f[F::CFG::value]); break;
        case isa::Op::LUT_LOAD: lut_load(in.f[F::LUT_LOAD::first], in.f[F::LUT_LOAD::count]); break;
        case isa::Op::DMA_IN:
          dma(in.f[F::DMA_IN::seg], in.f[F::DMA_IN::src], in.f[F::DMA_IN::dst], in.f[F::DMA_IN::bytes]);
          break;
        case isa::Op::DECODE_MAC: decode_mac(in); break;
        case isa::Op::OUTLIER: outlier(in.f[F::OUTLIER::addr], in.f[F::OUTLIER::count], in.f[F::OUTLIER::act]); break;
        case isa::Op::STORE: store(in.f[F::STORE::row0], in.f[F::STORE::rows], y, stored); break;
        case isa::Op::SYNC: break;  // the functional model has no overlap to wait for
        case isa::Op::END:
          for (uint32_t r = 0; r < p_.meta.rows; ++r)
            if (!stored[r]) fail("program ended without storing output row " + std::to_string(r));
          return;
      }
    }
  }

 private:
  ExecStats& stat() { return st_ ? *st_ : dummy_; }
  [[noreturn]] void fail(const std::string& what) const { fail_input("", p_.meta.layer, -1, "executor: " + what); }

  void lut_load(uint32_t first, uint32_t count) {
    for (uint32_t i = first; i < first + count; ++i) {
      const LutRecord& r = p_.lut_image[i];
      std::copy(r.words.begin(), r.words.end(), lut_.span(r.bank, r.addr, r.words.size()));
      *base_.span(0, uint64_t(r.addr / p_.entries()) * a_.lut_banks + r.bank, 1) = r.base;
      stat().lut_words_loaded += r.words.size();
    }
  }

  void dma(uint32_t seg, uint32_t src, uint32_t dst, uint32_t bytes) {
    stat().dma_bytes += bytes;
    if (!bytes) return;
    if (seg != uint32_t(isa::Segment::ACT)) {
      std::memcpy(wsram_.span(0, dst, bytes), p_.segments[seg].data() + src, bytes);
      return;
    }
    for (uint32_t m = 0; m < batch_; ++m) {
      uint8_t* out = asram_.span(m, dst, bytes);
      const int32_t* in = host_act_.data() + size_t(m) * p_.meta.cols;
      for (uint32_t b = 0; b < bytes; ++b) {
        const uint32_t e = (src + b) / act_bytes_, byte = (src + b) % act_bytes_;
        out[b] = byte_of_activation(in[e], byte);
      }
    }
  }

  // An outlier's column comes from its record, so its activation may lie
  // where no DMA wrote (within the arch's SRAM, as checked): zero there.
  int32_t act_at(uint32_t m, uint64_t addr) const {
    const uint8_t b[2] = {asram_.at(m, addr), act_bytes_ == 2 ? asram_.at(m, addr + 1) : uint8_t(0)};
    return activation_at(b, act_bytes_);
  }
  // A book may name a slot no record loaded (by id, or a program that never
  // loads it): those words and that base read as zero.
  const uint32_t* book(uint32_t slot) {
    const uint32_t bank = slot % a_.lut_banks, entries = p_.entries();
    const uint64_t addr = uint64_t(slot / a_.lut_banks) * entries;
    if (const uint32_t* w = lut_.span(bank, addr, entries)) return w;
    for (uint32_t c = 0; c < entries; ++c) book_[c] = lut_.at(bank, addr + c);
    return book_.data();
  }

  // trunc(mant * 2^(exp - Ew)) with sign: the golden GEMV's weight rule.
  int64_t weight_int(bool negative, uint64_t mant, int exp) const {
    const WeightInt w = weight_int_from_parts(negative, mant, exp - reg_[uint32_t(isa::CfgReg::WEIGHT_EXP)]);
    if (!w.fits) fail("a weight does not fit 63 bits at the weight exponent");
    return w.value;
  }

  void decode_mac(const isa::Instruction& in) {
    using D = F::DECODE_MAC;
    const uint32_t rows = in.f[D::rows], cols = in.f[D::cols], k0 = in.f[D::k0], idx = in.f[D::idx],
                   meta = in.f[D::meta], slot0 = in.f[D::slot0], act = in.f[D::act];
    const uint32_t bits = uint32_t(reg_[uint32_t(isa::CfgReg::BITS)]);
    const uint32_t group = uint32_t(reg_[uint32_t(isa::CfgReg::GROUP)]);
    const int select = reg_[uint32_t(isa::CfgReg::BOOK_SELECT)];
    const uint32_t mf = uint32_t(reg_[uint32_t(isa::CfgReg::META)]);
    const uint32_t mb = meta_record_bytes(mf), entries = 1u << bits;
    const uint32_t gpt = uint32_t(groups_in_chunk(k0, cols, group));
    std::vector<int64_t> wtab(entries);
    // Static ranges of a verified program: each one mapped span.
    const uint8_t* idx_at = wsram_.span(0, idx, packed_bytes(uint64_t(rows) * cols, bits));
    const uint8_t* meta_at = mb ? wsram_.span(0, meta, uint64_t(rows) * gpt * mb) : nullptr;
    std::vector<const uint8_t*> act_of(batch_);
    for (uint32_t m = 0; m < batch_; ++m) act_of[m] = asram_.span(m, act, uint64_t(cols) * act_bytes_);
    for (uint32_t r = 0; r < rows; ++r) {
      for (uint32_t g = 0; g < gpt; ++g) {
        const uint8_t* rec = meta_at + (size_t(r) * gpt + g) * mb;
        const MetaRecord mr = read_meta_record(mf, rec);
        if (select == int(BookSelect::kById) && !meta_has_id(mf)) fail("BOOK_SELECT by id without ids in the metadata");
        const uint64_t slot = book_slot(uint32_t(select), slot0, r, gpt, g, mr.id);
        if (slot >= p_.lut_slots()) fail("book slot " + std::to_string(slot) + " outside the LUT");
        BlockScale s;
        if (meta_has_scale(mf)) {
          s = decode_block_scale(mr.scale);
          if (!s.finite) fail("block scale is not finite");
        }
        const uint32_t* words = book(uint32_t(slot));
        const int base = base_.at(0, uint32_t(slot));
        for (uint32_t c = 0; c < entries; ++c) {
          const HifFields h = hif_unpack(hif_, words[c]);
          wtab[c] = weight_int(h.negative != s.negative, uint64_t(h.mant) * s.mant, base - int(h.shift) + s.exp);
        }
        const ColumnSpan span = group_columns(k0, cols, group, g);  // the group's columns within this tile
        const uint32_t j0 = span.begin, j1 = span.end;
        for (uint32_t m = 0; m < batch_; ++m) {
          u128 acc = acc_[size_t(r) * batch_ + m];
          for (uint32_t j = j0; j < j1; ++j) {
            const unsigned code = get_index(idx_at, uint64_t(r) * cols + j, bits);
            acc += u128(__int128(wtab[code]) * activation_at(act_of[m] + size_t(j) * act_bytes_, act_bytes_));
          }
          acc_[size_t(r) * batch_ + m] = acc;
        }
      }
    }
    stat().macs += uint64_t(rows) * cols * batch_;
  }

  void outlier(uint32_t addr, uint32_t count, uint32_t act) {
    if (!count) return;
    const uint8_t* records = wsram_.span(0, addr, uint64_t(count) * kOutlierRecordBytes);
    for (uint32_t i = 0; i < count; ++i) {
      const uint8_t* rec = records + size_t(i) * kOutlierRecordBytes;
      const OutlierRecord o = read_outlier_record(rec);
      const uint32_t row = o.row, col = o.col;
      if (row >= a_.lanes) fail("outlier record row " + std::to_string(row) + " >= lanes");
      if (uint64_t(act) + (uint64_t(col) + 1) * act_bytes_ > a_.act_sram_bytes())
        fail("outlier record column " + std::to_string(col) + " outside the activation SRAM");
      // No DECODE_MAC or STORE uses a lane past the footprint: never read.
      if (row >= lanes_) continue;
      const int64_t delta = o.delta;
      for (uint32_t m = 0; m < batch_; ++m)
        acc_[size_t(row) * batch_ + m] += u128(__int128(delta) * act_at(m, act + uint64_t(col) * act_bytes_));
    }
    stat().outlier_ops += uint64_t(count) * batch_;
  }

  void store(uint32_t row0, uint32_t rows, float* y, std::vector<uint8_t>& stored) {
    const int ew = reg_[uint32_t(isa::CfgReg::WEIGHT_EXP)];
    // A 128-bit accumulator is the container itself: 1 << 127 would overflow,
    // and every int128 value fits, so only narrower widths are range-checked.
    const bool check = a_.acc_bits < 128;
    const __int128 limit = check ? __int128(1) << (a_.acc_bits - 1) : 0;
    for (uint32_t r = 0; r < rows; ++r) {
      for (uint32_t m = 0; m < batch_; ++m) {
        u128& slot = acc_[size_t(r) * batch_ + m];
        const __int128 acc = __int128(slot);
        if (check && (acc >= limit || acc < -limit))
          fail("accumulator overflow at output row " + std::to_string(row0 + r));
        y[size_t(m) * p_.meta.rows + row0 + r] = scaled_int128_to_float(acc, ew + act_exp_[m]);
        slot = 0;
      }
      stored[row0 + r] = 1;
    }
  }

  const Program& p_;
  const ArchConfig& a_;
  uint32_t batch_;
  ExecStats* st_;
  ExecStats dummy_;
  HifFormat hif_;
  uint32_t act_bytes_ = 2;
  int32_t reg_[isa::kCfgRegCount] = {};
  PackedMemory<uint32_t> lut_;  // one copy per bank
  PackedMemory<int32_t> base_;  // by slot
  PackedMemory<uint8_t> wsram_;
  PackedMemory<uint8_t> asram_;  // one copy per activation vector
  uint32_t lanes_ = 0;           // accumulator lanes held
  std::vector<u128> acc_;        // lane-major, batch per lane
  std::vector<uint32_t> book_;   // a book not wholly loaded, zeros where not
  std::vector<int32_t> host_act_;
  std::vector<int> act_exp_;
};

}  // namespace

void execute(const Program& p, const float* x, uint32_t batch, float* y, ExecStats* stats) {
  if (batch == 0) throw Error(ExitCode::kBadInput, "execute: batch is zero");
  Engine(p, batch, stats).run(x, y);
}

}  // namespace lutc

#include "lutc/sim/decode_lanes.h"

#include <algorithm>
#include <string>

#include "lutc/model/bitpack.h"
#include "lutc/model/error.h"
#include "lutc/sim/cycle_model.h"
#include "lutc/sim/datapath.h"
#include "lutc/sim/sim_time.h"
#include "lutc/sim/unit_guard.h"
#include "lutc/spec/book_select.h"
#include "lutc/spec/meta_record.h"

namespace lutc::sim {

using D = isa::fields::DECODE_MAC;  // the only instruction the lanes run

DecodeLanes::DecodeLanes(sc_core::sc_module_name name, RunContext& ctx, ActivityLog& log)
    : sc_module(name),
      commands("commands"),
      weight_sram("weight_sram"),
      act_sram("act_sram"),
      lut("lut"),
      accumulators("accumulators"),
      ctx_(ctx),
      log_(log) {
  SC_HAS_PROCESS(DecodeLanes);
  SC_THREAD(thread);
}

void DecodeLanes::thread() {
  guarded([&] {
    for (;;) {
      ComputeCommand c = commands.read();
      for (const Dependency& d : c.after) log_.stall(Unit::kLanes, d.counter->wait_until(d.seq));
      const TileShape t = tile_shape(c);
      resolve_books(c, t.groups);
      const TileTiming tm = timing(c, t.groups);
      if (ctx_.functional) accumulate(c, t.groups);

      const uint32_t rows = c.insn.f[D::rows], cols = c.insn.f[D::cols], batch = ctx_.batch;
      const uint64_t codes = uint64_t(rows) * cols;
      ActionCounts& a = log_.actions;
      a.weight_sram_read_bytes += packed_bytes(codes, t.bits) + uint64_t(rows) * t.groups * t.meta_bytes;
      a.act_sram_read_bytes += uint64_t(cols) * ctx_.act_bytes() * batch;  // broadcast to every lane
      a.lut_reads += codes * batch;
      a.multiplies += codes * batch;
      a.acc_adds += codes * batch;
      a.bank_conflict_cycles += uint64_t(tm.conflict_cycles);
      log_.stall(Unit::kLanes, tm.conflict_cycles);

      const double start = now_cycles();
      sc_core::wait(cycles(tm.cycles));
      const double end = now_cycles();
      std::string label;
      if (log_.keeps_labels())
        label = "DECODE_MAC " + std::to_string(rows) + "x" + std::to_string(cols) +
                " k0=" + std::to_string(c.insn.f[D::k0]);
      // Lanes compute on conflict-free steps; the LUT serves every step, so
      // bank conflicts show as LUT time beyond the lanes' (and as lane stall).
      const double useful = end - tm.conflict_cycles;
      log_.busy(Unit::kLanes, start, useful, "DECODE_MAC", label);
      const double reads_end = useful - kDecodePipelineDepth;
      log_.busy(Unit::kLut, start, end - kDecodePipelineDepth, "LUT read", label);
      log_.busy(Unit::kWeightSram, start, reads_end, "index read", label);
      log_.busy(Unit::kActSram, start, reads_end, "activation read", label);
      log_.busy(Unit::kAccumulator, start + kDecodePipelineDepth, useful, "accumulate", label);
      retired.retire(c.seq);
    }
  });
}

void DecodeLanes::resolve_books(const ComputeCommand& c, uint32_t groups) {
  const uint32_t rows = c.insn.f[D::rows], meta = c.insn.f[D::meta], slot0 = c.insn.f[D::slot0];
  const int select = c.regs[uint32_t(isa::CfgReg::BOOK_SELECT)];
  const uint32_t mf = uint32_t(c.regs[uint32_t(isa::CfgReg::META)]);
  const uint32_t mb = meta_record_bytes(mf);
  const uint32_t slots = ctx_.program->lut_slots();
  if (select == int(BookSelect::kById) && !meta_has_id(mf))
    fail_input("", ctx_.program->meta.layer, -1, "sim: BOOK_SELECT by id without ids in the metadata");
  const uint8_t* records =
      select == int(BookSelect::kById) ? weight_sram->span(0, meta, uint64_t(rows) * groups * mb) : nullptr;
  slots_.resize(size_t(rows) * groups);
  for (uint32_t r = 0; r < rows; ++r) {
    for (uint32_t g = 0; g < groups; ++g) {
      const uint8_t id = records ? read_meta_record(mf, records + (size_t(r) * groups + g) * mb).id : 0;
      const uint64_t slot = book_slot(uint32_t(select), slot0, r, groups, g, id);
      if (slot >= slots)
        fail_input("", ctx_.program->meta.layer, -1, "sim: book slot " + std::to_string(slot) + " outside the LUT");
      slots_[size_t(r) * groups + g] = uint32_t(slot);
    }
  }
}

DecodeLanes::TileTiming DecodeLanes::timing(const ComputeCommand& c, uint32_t groups) {
  const uint32_t rows = c.insn.f[D::rows], cols = c.insn.f[D::cols], k0 = c.insn.f[D::k0];
  const uint32_t group = uint32_t(c.regs[uint32_t(isa::CfgReg::GROUP)]);
  const uint32_t ports = ctx_.program->arch.lut_ports;
  bank_load_.assign(lut->banks(), 0);
  double steps = 0, ideal = 0;
  for (uint32_t g = 0; g < groups; ++g) {
    std::fill(bank_load_.begin(), bank_load_.end(), 0);
    for (uint32_t r = 0; r < rows; ++r) ++bank_load_[lut->bank_of(slots_[size_t(r) * groups + g])];
    const ColumnSpan s = group_columns(k0, cols, group, g);
    const double n = double(s.end - s.begin) * ctx_.batch;
    steps += n * lut_step_cycles(bank_load_, ports);
    ideal += n;
  }
  return {steps + kDecodePipelineDepth, steps - ideal};
}

void DecodeLanes::accumulate(const ComputeCommand& c, uint32_t groups) {
  const uint32_t rows = c.insn.f[D::rows], cols = c.insn.f[D::cols], k0 = c.insn.f[D::k0], idx = c.insn.f[D::idx],
                 meta = c.insn.f[D::meta], act = c.insn.f[D::act];
  const uint32_t bits = uint32_t(c.regs[uint32_t(isa::CfgReg::BITS)]);
  const uint32_t group = uint32_t(c.regs[uint32_t(isa::CfgReg::GROUP)]);
  const uint32_t mf = uint32_t(c.regs[uint32_t(isa::CfgReg::META)]);
  const int ew = c.regs[uint32_t(isa::CfgReg::WEIGHT_EXP)];
  const uint32_t mb = meta_record_bytes(mf), entries = 1u << bits, batch = ctx_.batch;
  const Program& p = *ctx_.program;
  // Static ranges of a verified program: each one span of what the SRAMs hold.
  const uint8_t* indices = weight_sram->span(0, idx, packed_bytes(uint64_t(rows) * cols, bits));
  const uint8_t* records = mb ? weight_sram->span(0, meta, uint64_t(rows) * groups * mb) : nullptr;

  act_.resize(size_t(batch) * cols);
  for (uint32_t m = 0; m < batch; ++m) {
    const uint8_t* a = act_sram->span(m, act, uint64_t(cols) * ctx_.act_bytes());
    for (uint32_t j = 0; j < cols; ++j)
      act_[size_t(m) * cols + j] = activation_at(a + size_t(j) * ctx_.act_bytes(), ctx_.act_bytes());
  }
  codes_.resize(cols);
  wtab_.resize(entries);
  const HifFormat hif = p.hif();
  for (uint32_t r = 0; r < rows; ++r) {
    unpack_indices(indices, uint64_t(r) * cols, cols, bits, codes_.data());
    u128* acc = accumulators->lane(r);
    for (uint32_t g = 0; g < groups; ++g) {
      const uint32_t slot = slots_[size_t(r) * groups + g];
      const BlockScale s = block_scale(records + (size_t(r) * groups + g) * mb, mf, p.meta.layer);
      integer_weights(lut->book(slot, entries), entries, lut->base(slot), hif, s, ew, p.meta.layer, wtab_.data());
      const ColumnSpan span = group_columns(k0, cols, group, g);
      for (uint32_t m = 0; m < batch; ++m)
        acc[m] += dot_codes(codes_.data() + span.begin, act_.data() + size_t(m) * cols + span.begin,
                            span.end - span.begin, wtab_.data(), entries);
    }
  }
}

}  // namespace lutc::sim

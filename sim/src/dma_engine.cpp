#include "lutc/sim/dma_engine.h"

#include <algorithm>
#include <string>

#include "lutc/model/error.h"
#include "lutc/sim/cycle_model.h"
#include "lutc/sim/dram.h"
#include "lutc/sim/sim_time.h"
#include "lutc/sim/unit_guard.h"

namespace lutc::sim {

DmaEngine::DmaEngine(sc_core::sc_module_name name, RunContext& ctx, ActivityLog& log, const SimOptions& opt)
    : sc_module(name),
      commands("commands"),
      dram("dram"),
      weight_sram("weight_sram"),
      act_sram("act_sram"),
      lut("lut"),
      ctx_(ctx),
      log_(log),
      opt_(opt),
      // Transfers in flight are bounded by the request slots.
      landings_("landings", int(std::max<uint32_t>(1, opt.dram_outstanding))) {
  SC_HAS_PROCESS(DmaEngine);
  SC_THREAD(issue_thread);
  SC_THREAD(retire_thread);
}

double DmaEngine::transfer(uint64_t address, uint8_t* dst, uint32_t bytes) {
  tlm::tlm_generic_payload gp;
  gp.set_address(address);
  gp.set_data_length(bytes);
  gp.set_streaming_width(bytes);
  gp.set_data_ptr(dst);
  gp.set_byte_enable_ptr(nullptr);
  gp.set_dmi_allowed(false);
  // No destination: a timing-only transfer (the bytes are counted, not moved).
  gp.set_command(dst ? tlm::TLM_READ_COMMAND : tlm::TLM_IGNORE_COMMAND);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  dram->b_transport(gp, delay);
  if (gp.is_response_error())
    throw Error(ExitCode::kBadInput, "DMA read outside its DRAM segment at address " + std::to_string(address));
  return now_cycles() + delay.to_seconds() * 1e9;
}

void DmaEngine::segment(const DmaCommand& c, DmaLanding& l) {
  using D = isa::fields::DMA_IN;
  const uint32_t seg = c.insn.f[D::seg], src = c.insn.f[D::src], dst = c.insn.f[D::dst], bytes = c.insn.f[D::bytes];
  const bool act = seg == uint32_t(isa::Segment::ACT);
  const uint32_t copies = act ? ctx_.batch : 1;
  const double rate = dram_sustained_bytes_per_cycle(ctx_.program->arch, opt_);
  double done = 0;
  for (uint32_t m = 0; m < copies; ++m) {
    uint8_t* to = act ? act_sram->span(m, dst, bytes) : weight_sram->span(0, dst, bytes);
    // Timing-only runs still copy metadata and outliers (book choice and
    // outlier rows shape the timing); indices and activations are only counted.
    const bool move = ctx_.functional || (seg != uint32_t(isa::Segment::INDICES) && !act);
    done = transfer(dram_address(seg, m, src), move ? to : nullptr, bytes);
  }
  l.act = act;
  l.done = done;
  l.first = done - copies * dram_transfer_cycles(bytes, rate);
  ActionCounts& a = log_.actions;
  a.dram_bytes += uint64_t(bytes) * copies;
  (act ? a.act_sram_write_bytes : a.weight_sram_write_bytes) += uint64_t(bytes) * copies;
  if (log_.keeps_labels())
    l.label = std::string("DMA_IN ") + isa::segment_name(seg) + " " + std::to_string(uint64_t(bytes) * copies) + " B";
}

void DmaEngine::lut_load(const DmaCommand& c, DmaLanding& l) {
  const Program& p = *ctx_.program;
  const uint32_t first = c.insn.f[isa::fields::LUT_LOAD::first], count = c.insn.f[isa::fields::LUT_LOAD::count];
  std::vector<uint32_t> per_bank(lut->banks(), 0);
  uint64_t words = 0;
  for (uint32_t i = first; i < first + count; ++i) {
    const LutRecord& r = p.lut_image[i];
    lut->load(r, p.entries());
    per_bank[r.bank] += uint32_t(r.words.size());
    words += r.words.size();
  }
  const uint64_t bytes = lut_image_bytes(p.arch, words, count);
  const double rate = dram_sustained_bytes_per_cycle(p.arch, opt_);
  const double done = transfer(dram_address(kLutImageSegment, 0, 0), nullptr, uint32_t(bytes));
  l.first = done - dram_transfer_cycles(bytes, rate);
  // Each bank takes one word per cycle; banks fill in parallel as words arrive.
  l.done = std::max(done, l.first + *std::max_element(per_bank.begin(), per_bank.end()));
  log_.actions.dram_bytes += bytes;
  log_.actions.lut_writes += words;
  if (log_.keeps_labels()) l.label = "LUT_LOAD " + std::to_string(count) + " books";
}

void DmaEngine::issue_thread() {
  guarded([&] {
    for (;;) {
      DmaCommand c = commands.read();
      for (const Dependency& d : c.after) log_.stall(Unit::kDma, d.counter->wait_until(d.seq));
      DmaLanding l;
      l.kind = c.kind;
      l.seq = c.seq;
      if (c.kind == DmaCommand::Kind::kSegment)
        segment(c, l);
      else
        lut_load(c, l);
      // Requests are out once the last one is issued, a latency before its data lands.
      const double issued = l.done - ctx_.program->arch.dram_latency_cycles;
      if (issued > now_cycles()) sc_core::wait(cycles(issued - now_cycles()));
      landings_.write(l);
    }
  });
}

void DmaEngine::retire_thread() {
  guarded([&] {
    for (;;) {
      DmaLanding l = landings_.read();
      if (l.done > now_cycles()) sc_core::wait(cycles(l.done - now_cycles()));
      if (l.kind == DmaCommand::Kind::kSegment) {
        log_.busy(Unit::kDma, l.first, l.done, "DMA_IN", l.label);
        log_.busy(l.act ? Unit::kActSram : Unit::kWeightSram, l.first, l.done, "fill", l.label);
        segments_done.retire(l.seq);
      } else {
        log_.busy(Unit::kDma, l.first, l.done, "LUT_LOAD", l.label);
        log_.busy(Unit::kLut, l.first, l.done, "LUT_LOAD", l.label);
        luts_done.retire(l.seq);
      }
    }
  });
}

}  // namespace lutc::sim

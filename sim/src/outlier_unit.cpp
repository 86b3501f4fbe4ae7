#include "lutc/sim/outlier_unit.h"

#include <string>

#include "lutc/model/error.h"
#include "lutc/sim/cycle_model.h"
#include "lutc/sim/datapath.h"
#include "lutc/sim/sim_time.h"
#include "lutc/sim/unit_guard.h"

namespace lutc::sim {

OutlierUnit::OutlierUnit(sc_core::sc_module_name name, RunContext& ctx, ActivityLog& log)
    : sc_module(name),
      commands("commands"),
      weight_sram("weight_sram"),
      act_sram("act_sram"),
      accumulators("accumulators"),
      ctx_(ctx),
      log_(log) {
  SC_HAS_PROCESS(OutlierUnit);
  SC_THREAD(thread);
}

void OutlierUnit::thread() {
  guarded([&] {
    for (;;) {
      ComputeCommand c = commands.read();
      for (const Dependency& d : c.after) log_.stall(Unit::kOutlier, d.counter->wait_until(d.seq));
      const uint32_t count = c.insn.f[isa::fields::OUTLIER::count], batch = ctx_.batch;
      if (ctx_.functional) apply(c);
      ActionCounts& a = log_.actions;
      a.weight_sram_read_bytes += uint64_t(count) * kOutlierRecordBytes;
      a.act_sram_read_bytes += uint64_t(count) * ctx_.act_bytes() * batch;
      a.outlier_ops += uint64_t(count) * batch;
      if (count > 0) {
        const double start = now_cycles();
        sc_core::wait(cycles(double(count) * batch + kOutlierPipelineDepth));
        const std::string label = log_.keeps_labels() ? "OUTLIER " + std::to_string(count) : std::string();
        log_.busy(Unit::kOutlier, start, now_cycles(), "OUTLIER", label);
        log_.busy(Unit::kWeightSram, start, now_cycles() - kOutlierPipelineDepth, "outlier read", label);
        log_.busy(Unit::kAccumulator, start + kOutlierPipelineDepth, now_cycles(), "outlier add", label);
      }
      retired.retire(c.seq);
    }
  });
}

void OutlierUnit::apply(const ComputeCommand& c) {
  using O = isa::fields::OUTLIER;
  const uint32_t addr = c.insn.f[O::addr], count = c.insn.f[O::count], act = c.insn.f[O::act];
  const Program& p = *ctx_.program;
  const uint32_t ab = ctx_.act_bytes();
  if (!count) return;
  const uint8_t* records = weight_sram->span(0, addr, uint64_t(count) * kOutlierRecordBytes);
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* rec = records + size_t(i) * kOutlierRecordBytes;
    const OutlierRecord o = read_outlier_record(rec);
    const uint32_t row = o.row, col = o.col;
    if (row >= p.arch.lanes)
      fail_input("", p.meta.layer, -1, "sim: outlier record row " + std::to_string(row) + " >= lanes");
    if (uint64_t(act) + (uint64_t(col) + 1) * ab > p.arch.act_sram_bytes())
      fail_input("", p.meta.layer, -1,
                 "sim: outlier record column " + std::to_string(col) + " outside the activation SRAM");
    u128* acc = accumulators->lane(row);
    if (!acc) continue;  // a lane no DECODE_MAC or STORE uses: never read
    // The column comes from the record: its bytes may lie where no DMA wrote
    // (within the arch's SRAM, as checked), and read as zero there.
    const uint64_t at = uint64_t(act) + uint64_t(col) * ab;
    for (uint32_t m = 0; m < ctx_.batch; ++m) {
      const uint8_t a[2] = {act_sram->byte(m, at), ab == 2 ? act_sram->byte(m, at + 1) : uint8_t(0)};
      acc[m] += u128(__int128(o.delta) * activation_at(a, ab));
    }
  }
}

}  // namespace lutc::sim

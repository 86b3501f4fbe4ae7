#pragma once
// The outlier unit: OUTLIER, one record per cycle per activation vector, adding
// delta x a[col] into the tile's accumulators (a second accumulator write
// port, so it overlaps the lanes of the next chunk of the same row tile).
#include <systemc>

#include "lutc/sim/activity_log.h"
#include "lutc/sim/commands.h"
#include "lutc/sim/memories.h"
#include "lutc/sim/progress_counter.h"
#include "lutc/sim/run_context.h"

namespace lutc::sim {

class OutlierUnit : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<ComputeCommand> commands;
  sc_core::sc_port<SramIf> weight_sram;
  sc_core::sc_port<SramIf> act_sram;
  sc_core::sc_port<AccumulatorIf> accumulators;

  ProgressCounter retired;

  OutlierUnit(sc_core::sc_module_name name, RunContext& ctx, ActivityLog& log);

 private:
  void thread();
  void apply(const ComputeCommand& c);

  RunContext& ctx_;
  ActivityLog& log_;
};

}  // namespace lutc::sim

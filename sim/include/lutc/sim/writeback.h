#pragma once
// Writeback: STORE rounds each accumulator once to fp32 (model/'s
// scaled_int128_to_float at Ew + ea), writes y, and clears the accumulator;
// one word per cycle after the lanes and the outlier unit have retired the
// tile's last command.
#include <systemc>

#include "lutc/sim/activity_log.h"
#include "lutc/sim/commands.h"
#include "lutc/sim/memories.h"
#include "lutc/sim/progress_counter.h"
#include "lutc/sim/run_context.h"

namespace lutc::sim {

class Writeback : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<ComputeCommand> commands;
  sc_core::sc_port<AccumulatorIf> accumulators;

  ProgressCounter retired;

  Writeback(sc_core::sc_module_name name, RunContext& ctx, ActivityLog& log);

 private:
  void thread();
  void store(const ComputeCommand& c);

  RunContext& ctx_;
  ActivityLog& log_;
};

}  // namespace lutc::sim

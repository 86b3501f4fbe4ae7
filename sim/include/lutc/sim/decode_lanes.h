#pragma once
// The decode lanes: DECODE_MAC, one tile per command. Lane r takes row r of
// the tile, reads one code per cycle from the weight SRAM, looks it up in its
// book in the LUT SRAM, multiplies by the block scale and the activation and
// adds into its accumulator. Lanes whose books share a bank contend for its
// ports (cycle_model.h lut_step_cycles); those cycles are the bank conflicts.
#include <systemc>

#include <cstdint>
#include <vector>

#include "lutc/sim/activity_log.h"
#include "lutc/sim/commands.h"
#include "lutc/sim/memories.h"
#include "lutc/sim/progress_counter.h"
#include "lutc/sim/run_context.h"

namespace lutc::sim {

class DecodeLanes : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<ComputeCommand> commands;
  sc_core::sc_port<SramIf> weight_sram;
  sc_core::sc_port<SramIf> act_sram;
  sc_core::sc_port<LutIf> lut;
  sc_core::sc_port<AccumulatorIf> accumulators;

  ProgressCounter retired;

  DecodeLanes(sc_core::sc_module_name name, RunContext& ctx, ActivityLog& log);

 private:
  struct TileTiming {
    double cycles = 0;           // whole tile, pipeline fill included
    double conflict_cycles = 0;  // lost to LUT bank conflicts
  };

  void thread();
  // Book slot of every (row, group) of the tile, from the CFG registers and the metadata.
  void resolve_books(const ComputeCommand& c, uint32_t groups);
  TileTiming timing(const ComputeCommand& c, uint32_t groups);
  void accumulate(const ComputeCommand& c, uint32_t groups);

  RunContext& ctx_;
  ActivityLog& log_;
  std::vector<uint32_t> slots_;      // rows x groups
  std::vector<uint32_t> bank_load_;  // per bank, reused
  std::vector<uint8_t> codes_;       // one row of the tile, unpacked
  std::vector<int32_t> act_;         // batch x cols of the chunk
  std::vector<int64_t> wtab_;        // the integer weights of one book
};

}  // namespace lutc::sim

#pragma once
// The DMA engine: executes DMA_IN (DRAM segment -> weight or activation SRAM)
// and LUT_LOAD (LUT image -> LUT banks) in order. It waits for the readers of
// the range it overwrites (the program's double buffering makes that the
// tile two steps back), issues the transfer to DRAM, and moves on to the next
// command once its requests are out (latency - not completion - separates
// back-to-back transfers). A second thread retires each transfer when its last
// byte lands, so SYNC sees DMA_IN and LUT_LOAD completions in order.
#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include "lutc/sim/activity_log.h"
#include "lutc/sim/commands.h"
#include "lutc/sim/memories.h"
#include "lutc/sim/progress_counter.h"
#include "lutc/sim/run_context.h"
#include "lutc/sim/sim_options.h"

namespace lutc::sim {

// A transfer on its way: retired when its last byte lands.
struct DmaLanding {
  DmaCommand::Kind kind = DmaCommand::Kind::kSegment;
  uint64_t seq = 0;
  double first = 0, done = 0;  // cycles: first byte, last byte (LUT: last bank write)
  bool act = false;
  std::string label;
};
inline std::ostream& operator<<(std::ostream& os, const DmaLanding& l) { return os << "landing#" << l.seq; }

class DmaEngine : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<DmaCommand> commands;
  tlm_utils::simple_initiator_socket<DmaEngine> dram;
  sc_core::sc_port<SramIf> weight_sram;
  sc_core::sc_port<SramIf> act_sram;
  sc_core::sc_port<LutIf> lut;

  ProgressCounter segments_done;  // DMA_IN commands retired
  ProgressCounter luts_done;      // LUT_LOAD commands retired

  DmaEngine(sc_core::sc_module_name name, RunContext& ctx, ActivityLog& log, const SimOptions& opt);

 private:
  void issue_thread();
  void retire_thread();
  double transfer(uint64_t address, uint8_t* dst, uint32_t bytes);  // returns the end, in cycles
  void segment(const DmaCommand& c, DmaLanding& l);
  void lut_load(const DmaCommand& c, DmaLanding& l);

  RunContext& ctx_;
  ActivityLog& log_;
  const SimOptions& opt_;
  sc_core::sc_fifo<DmaLanding> landings_;
};

}  // namespace lutc::sim

#pragma once
// The whole engine: every unit, the memories, and the fifos and sockets that
// connect them (docs/sim.md has the picture).
//
//   Controller --dma fifo--> DmaEngine --TLM--> Dram
//       |                        |--> weight Sram, act Sram, LutSram
//       |--lanes fifo--> DecodeLanes --> LutSram, Srams, Accumulators
//       |--outlier fifo--> OutlierUnit --> Srams, Accumulators
//       '--writeback fifo--> Writeback --> Accumulators --> y
#include <systemc>

#include <memory>
#include <vector>

#include "lutc/sim/activity_log.h"
#include "lutc/sim/controller.h"
#include "lutc/sim/decode_lanes.h"
#include "lutc/sim/dma_engine.h"
#include "lutc/sim/dram.h"
#include "lutc/sim/memories.h"
#include "lutc/sim/outlier_unit.h"
#include "lutc/sim/run_context.h"
#include "lutc/sim/sim_options.h"
#include "lutc/sim/writeback.h"

namespace lutc::sim {

class Engine : public sc_core::sc_module {
 public:
  Engine(sc_core::sc_module_name name, const ArchConfig& arch, uint32_t batch, std::vector<SimLayer> layers,
         const SimOptions& opt);

  const ArchConfig arch;
  const uint32_t batch;
  const SimOptions options;
  std::vector<SimLayer> layers;
  RunContext ctx;
  ActivityLog log;
  std::vector<std::vector<float>> outputs;  // per layer: batch x rows (functional runs)
  std::vector<LayerWindow> windows;         // per layer
  IssueLog issues;                          // when options.keep_issue_log

  // Bytes the memory models hold: what the layers run so far touch.
  uint64_t memory_bytes() const;

 private:
  sc_core::sc_fifo<DmaCommand> dma_queue_;
  sc_core::sc_fifo<ComputeCommand> lanes_queue_, outlier_queue_, writeback_queue_;

 public:
  Sram weight_sram, act_sram;
  LutSram lut;
  Accumulators accumulators;
  Dram dram;
  DmaEngine dma;
  DecodeLanes lanes;
  OutlierUnit outlier;
  Writeback writeback;
  Controller controller;

 private:
  // Grows the memories to cover `p` (the controller calls it before each
  // layer, while every unit is idle).
  void fit_memories(const Program& p);
};

}  // namespace lutc::sim

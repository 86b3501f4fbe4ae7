#pragma once
// Running the model: one SystemC elaboration per process. run_in_systemc
// enters the kernel through sc_elab_and_sim (the program's sc_main lives in
// sim/src/sc_main.cpp); inside it, simulate() elaborates one Engine per job,
// simulates them all in one sc_start, and turns what they observed into the
// stats schema (engine_stats.h), per layer and summed.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lutc/compiler/engine_stats.h"
#include "lutc/sim/activity_log.h"
#include "lutc/sim/controller.h"
#include "lutc/sim/sim_options.h"

namespace lutc::sim {

struct SimJob {
  ArchConfig arch;  // every layer's program must be compiled for it
  uint32_t batch = 1;
  std::vector<SimLayer> layers;
  SimOptions options;
};

struct LayerResult {
  EngineStats stats;
  std::vector<float> y;  // batch x rows; empty for timing-only layers
  double start_cycle = 0;
};

struct SimResult {
  std::vector<LayerResult> layers;
  EngineStats total;          // a decode step: cycles, actions and busy time summed over layers
  std::vector<Slice> slices;  // labelled when options.keep_trace
  std::vector<std::string> layer_names;
  IssueLog issues;            // when options.keep_issue_log
  uint64_t memory_bytes = 0;  // held by the engine's memory models (sized by what the layers touch)
};

// Runs `body` inside sc_main (sc_elab_and_sim); returns its result. Errors
// thrown by body (or by a unit during simulation) propagate unchanged.
int run_in_systemc(const std::function<int()>& body);
bool inside_systemc();

// Only once per process, inside run_in_systemc.
std::vector<SimResult> simulate(std::vector<SimJob> jobs);
SimResult simulate(SimJob job);

}  // namespace lutc::sim

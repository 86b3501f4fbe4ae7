#pragma once
// The controller: fetches each 32-byte instruction from the instruction
// memory, decodes it with the shared opcode table (isa::decode over isa.def),
// and dispatches it: CFG into the layer registers, DMA_IN / LUT_LOAD to the
// DMA engine, DECODE_MAC / OUTLIER / STORE to the lanes, the outlier unit and
// writeback. It issues in order, as the RTL's controller does: an instruction
// is accepted in the first cycle the units it needs are idle (DECODE_MAC the
// lanes, OUTLIER the outlier unit; DMA_IN, LUT_LOAD and STORE both, since a
// DMA may refill a buffer half they read and STORE reads their accumulators;
// SYNC the DMA; END everything), and a STORE holds the controller one cycle
// per row. A scoreboard of in-flight reads (SRAM byte ranges and LUT slots)
// also records each DMA's write-after-read hazards explicitly, so the units
// stay correct on their own.
#include <systemc>

#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lutc/compiler/issue_log.h"
#include "lutc/sim/activity_log.h"
#include "lutc/sim/commands.h"
#include "lutc/sim/progress_counter.h"
#include "lutc/sim/run_context.h"

namespace lutc::sim {

// One layer to run: the program (loaded when its turn comes, so a whole model
// need not sit in memory) and, for a functional run, its activations.
struct SimLayer {
  std::string name;
  std::function<std::shared_ptr<const Program>()> load;
  std::vector<float> x;  // batch x cols; empty: timing only
};

// What the controller observed of one layer.
struct LayerWindow {
  std::string layer;
  uint32_t rows = 0, cols = 0;
  double start = 0, end = 0;  // cycles
  ActionCounts actions_before, actions_after;
  std::vector<double> stall_before, stall_after;
};

class Controller : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_out<DmaCommand> dma;
  sc_core::sc_fifo_out<ComputeCommand> lanes;
  sc_core::sc_fifo_out<ComputeCommand> outliers;
  sc_core::sc_fifo_out<ComputeCommand> writeback;

  // The units' retirement counters (the scoreboard waits on them).
  struct Progress {
    ProgressCounter* dma_segments;
    ProgressCounter* dma_luts;
    ProgressCounter* lanes;
    ProgressCounter* outliers;
    ProgressCounter* writeback;
  };

  Controller(sc_core::sc_module_name name, RunContext& ctx, ActivityLog& log, std::vector<SimLayer>& layers,
             uint32_t batch, Progress progress, std::vector<std::vector<float>>& outputs,
             std::vector<LayerWindow>& windows);
  // Record each instruction's accept cycle into `log` (nullptr: don't).
  void keep_issue_log(IssueLog* log) { issues_ = log; }
  // Called with each layer's program before its first instruction, while
  // every unit is idle (the engine sizes its memories there).
  void on_program(std::function<void(const Program&)> f) { on_program_ = std::move(f); }

 private:
  enum class Space : uint8_t { kWeightSram, kActSram, kLutSlots };
  struct Read {  // an issued command that reads [lo, hi) of a space until it retires
    Space space;
    uint64_t lo, hi;
    ProgressCounter* unit;
    uint64_t seq;
  };

  void thread();
  void begin_layer(uint32_t index);
  void execute(const isa::Instruction& in);
  std::vector<Dependency> readers_of(Space space, uint64_t lo, uint64_t hi);
  void note_read(Space space, uint64_t lo, uint64_t hi, ProgressCounter* unit, uint64_t seq);
  // In-order issue, as in the RTL: wait until every unit named is idle, then
  // spend the accept cycle. Stall cycles go to the controller.
  void accept_when_idle(std::initializer_list<Dependency> units);
  // Waits until the units are idle and a cycle has seen them so; returns when.
  double wait_idle(const Dependency* first, const Dependency* last);
  Dependency lanes_idle() const { return {progress_.lanes, issued_lanes_}; }
  Dependency outliers_idle() const { return {progress_.outliers, issued_outliers_}; }
  void sync(uint32_t mask);
  void drain();

  RunContext& ctx_;
  ActivityLog& log_;
  std::vector<SimLayer>& layers_;
  uint32_t batch_;
  Progress progress_;
  std::vector<std::vector<float>>& outputs_;
  std::vector<LayerWindow>& windows_;

  std::vector<uint8_t> imem_;  // the instruction stream, encoded as the .lutp stores it
  Registers regs_{};
  std::deque<Read> reads_;
  std::pair<uint64_t, uint64_t> last_act_{0, 0};  // activation range of the last DECODE_MAC
  IssueLog* issues_ = nullptr;
  std::function<void(const Program&)> on_program_;
  double accepted_at_ = 0;  // when the instruction being executed was accepted
  uint64_t issued_segments_ = 0, issued_luts_ = 0, issued_lanes_ = 0, issued_outliers_ = 0, issued_stores_ = 0;
};

}  // namespace lutc::sim

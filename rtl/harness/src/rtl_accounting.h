#pragma once
// Turns the engine's per-cycle activity outputs and the instructions it
// accepted into the stats schema (docs/stats.md). Counts that the hardware
// signals per cycle (LUT reads, multiplies, conflicts, outlier ops, output
// words, busy/stall) come from the RTL; SRAM read bytes follow from the
// fields of the instructions the engine executed (docs/rtl.md "Stats").
#include <cstdint>

#include "lutc/compiler/engine_stats.h"
#include "lutc/compiler/program.h"

namespace lutc::rtl {

struct Accounting {
  uint64_t cycles = 0;
  uint64_t lut_reads = 0, multiplies = 0, conflicts = 0, decode = 0, outlier = 0, sync_wait = 0;
  uint64_t outputs = 0, dma_busy = 0, acc_busy = 0, lut_busy = 0;
  uint64_t dram_bytes = 0, weight_sram_write_bytes = 0, act_sram_write_bytes = 0, lut_writes = 0;
  uint64_t weight_sram_read_bytes = 0, act_sram_read_bytes = 0, instructions = 0;
  uint64_t weight_sram_busy = 0, act_sram_busy = 0;
  uint32_t regs[isa::kCfgRegCount] = {};

  void sample(uint32_t lut, uint32_t macs, bool conflict, bool dec, bool outl, bool sync, bool y, bool dma);
  void instruction(const Program& p, const isa::Instruction& in);
  EngineStats stats(const Program& p, uint32_t batch) const;
};

}  // namespace lutc::rtl

#pragma once
// The Verilated RTL engine behind a plain C++ interface: runs a .lutp program
// (docs/rtl.md) with the harness playing DRAM and the DMA, and reports y and
// the engine stats schema. No Verilated header leaks through this file.
#include <cstdint>
#include <string>
#include <vector>

#include "lutc/compiler/engine_stats.h"
#include "lutc/compiler/issue_log.h"
#include "lutc/compiler/program.h"

namespace lutc::rtl {

// The structure the engine was verilated with, as an arch: each structural
// key (RtlFit other than kAny in arch_keys.def) holds the verilated value,
// every other key its default.
ArchConfig verilated_arch();

// Empty when the verilated engine can run programs for `arch`; otherwise
// every mismatch, naming the arch key and both values.
std::string unsupported_arch(const ArchConfig& arch);

struct RtlOptions {
  std::string wave_path;            // FST of the first activation vector's run when non-empty
  uint64_t max_cycles = 200000000;  // a hung program fails instead of spinning
  bool keep_issue_log = false;      // record the first vector's accept cycles (RtlResult::issues)
};

// Per output row, what produced it: the STORE that wrote it and the
// DECODE_MAC instructions (and their tile numbers) that accumulated into it.
struct RowOrigin {
  uint32_t store_insn = 0;
  uint32_t first_decode_insn = 0, last_decode_insn = 0;
  uint32_t first_tile = 0, last_tile = 0;
};

struct RtlResult {
  EngineStats stats;              // engine "rtl", summed over the batch
  std::vector<RowOrigin> origin;  // per output row (from the first vector's run)
  IssueLog issues;                // the first vector's run, when RtlOptions::keep_issue_log
};

// x: batch x cols fp32; y: batch x rows. The engine has one activation
// datapath: a batch runs the program once per vector (cycles add up).
// Throws Error(kBadInput) for an arch the engine cannot run, bad
// activations, or a program that does not reach END.
RtlResult run_rtl(const Program& p, const float* x, uint32_t batch, float* y, const RtlOptions& opt = {});

// A readable account of the first differing output between `got` and `want`
// (row, vector, both values, the STORE and tiles that produced the row);
// empty when all bits agree.
std::string first_mismatch(const Program& p, const RtlResult& r, const float* got, const float* want, uint32_t batch);

}  // namespace lutc::rtl

#pragma once
// The cycle costs the model charges, as plain functions of an instruction's
// fields and the arch, so that docs/sim.md, the SystemC modules and the RTL
// calibration all refer to one definition. Time is in engine cycles; a DRAM
// transfer streams for whole cycles, but may start on a fractional one when
// the sustained rate is below peak (reported cycles round up).
#include <cstdint>
#include <vector>

#include "lutc/compiler/arch_config.h"
#include "lutc/sim/sim_options.h"

namespace lutc::sim {

// Fixed latencies of the pipelined units (cycles from first input to last output).
constexpr uint32_t kIssueCycles = 1;  // controller: fetch + decode + dispatch per instruction
// Cycles a unit stays busy after its last input: the lanes read a LUT word per
// column step, then multiply and accumulate; the outlier unit adds its last
// product. Writeback has none: it rounds and writes one row per cycle, in the
// cycles the controller spends on the STORE.
constexpr uint32_t kDecodePipelineDepth = 2;   // multiply, accumulate
constexpr uint32_t kOutlierPipelineDepth = 1;  // accumulate

// Sustained DRAM bandwidth in bytes per cycle: peak, unless too few requests
// are in flight to cover the latency (Little's law).
double dram_sustained_bytes_per_cycle(const ArchConfig& arch, const SimOptions& opt);

// Cycles one DRAM request of `bytes` streams at `bytes_per_cycle`: whole
// cycles, because the data bus moves one beat per cycle even when the
// request's last beat is partly empty. Many small requests (a small weight
// SRAM cut into short DMA_INs) cost a cycle each, as they do in the RTL.
double dram_transfer_cycles(uint64_t bytes, double bytes_per_cycle);

// Bytes a LUT_LOAD moves from DRAM: each HIF word rounded up to whole bytes,
// plus a 4-byte base per record.
uint64_t lut_image_bytes(const ArchConfig& arch, uint64_t words, uint64_t records);

// Cycles one column step of a DECODE_MAC takes for one activation vector:
// every lane reads one word from the bank that holds its book; a bank serves
// `ports` reads per cycle, so the step lasts max over banks of
// ceil(lanes on that bank / ports), at least 1. `lanes_per_bank` has one
// entry per bank.
uint32_t lut_step_cycles(const std::vector<uint32_t>& lanes_per_bank, uint32_t ports);

}  // namespace lutc::sim

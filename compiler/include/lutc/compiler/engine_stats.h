#pragma once
// The stats schema every engine that runs a .lutp reports (SystemC model, RTL
// harness): cycles, per-unit busy/stall, action counts, and energy computed
// from the counts with the arch's energy table. One struct, one JSON form
// (docs/stats.md), so runs of different engines compare key by key.
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "lutc/compiler/arch_config.h"

namespace lutc {

// Every countable action. Energy = sum over actions of count x table entry.
struct ActionCounts {
  uint64_t dram_bytes = 0;              // bytes moved from DRAM (weights, metadata, outliers, activations)
  uint64_t weight_sram_write_bytes = 0;  // DMA fills of the weight/metadata SRAM
  uint64_t weight_sram_read_bytes = 0;   // lanes and outlier unit reading indices/metadata
  uint64_t act_sram_write_bytes = 0;
  uint64_t act_sram_read_bytes = 0;
  uint64_t lut_writes = 0;              // HIF words loaded into LUT banks (LUT_LOAD)
  uint64_t lut_reads = 0;               // one per decoded code per batch vector
  uint64_t multiplies = 0;              // HIF mantissa x scale x activation products
  uint64_t acc_adds = 0;                // adds into the wide accumulators
  uint64_t outlier_ops = 0;             // outlier corrections applied (per batch vector)
  uint64_t output_words = 0;            // fp32 results written back
  uint64_t instructions = 0;            // instructions fetched and executed
  uint64_t bank_conflict_cycles = 0;    // extra LUT cycles lost to bank conflicts
};

// Units in the order reports list them; names are the JSON keys.
inline const char* const kEngineUnits[] = {"controller", "dma",     "weight_sram", "act_sram", "lut",
                                           "lanes",      "accumulator", "outlier", "writeback"};

struct UnitTime {
  uint64_t busy_cycles = 0;
  uint64_t stall_cycles = 0;
};

struct EnergyBreakdown {
  // Keys: dram, sram, lut, multiply, accumulate, outlier, control, leakage.
  std::map<std::string, double> pj;
  double total_pj = 0;
};

EnergyBreakdown energy_of(const ArchConfig& arch, const ActionCounts& a, uint64_t cycles);

struct EngineStats {
  std::string engine;      // "systemc" | "rtl" | "exec"
  std::string layer;
  std::string arch;        // arch name
  uint64_t arch_hash = 0;
  uint32_t rows = 0, cols = 0, batch = 1;
  uint64_t cycles = 0;
  std::map<std::string, UnitTime> units;  // keyed by kEngineUnits
  ActionCounts actions;
  std::string bottleneck;  // the unit with the most busy cycles ("dma" = memory-bound)

  // Derived from the above and the arch (fill with finish()).
  double seconds = 0;
  double tokens_per_s = 0;          // 1 / seconds: one decode step of this layer per token
  double dram_bytes_per_s = 0;
  double dram_bw_fraction = 0;      // of arch.dram_bytes_per_cycle * clock
  EnergyBreakdown energy;
  double pj_per_weight = 0;

  void finish(const ArchConfig& arch);
};

nlohmann::json to_json(const EngineStats& s);
EngineStats stats_from_json(const nlohmann::json& j);  // throws Error(kBadInput) on missing keys

}  // namespace lutc

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

// Every countable action, once: the struct, its JSON keys, the sums and
// differences of counts all expand this list. Energy = sum over actions of
// count x table entry (energy_of).
#define LUTC_ACTION_COUNTS(X)                                                                       \
  X(dram_bytes)              /* bytes moved from DRAM (weights, metadata, outliers, activations) */ \
  X(weight_sram_write_bytes) /* DMA fills of the weight/metadata SRAM */                            \
  X(weight_sram_read_bytes)  /* lanes and outlier unit reading indices/metadata */                  \
  X(act_sram_write_bytes)                                                                           \
  X(act_sram_read_bytes)                                                                            \
  X(lut_writes)           /* HIF words loaded into LUT banks (LUT_LOAD) */                          \
  X(lut_reads)            /* one per decoded code per batch vector */                               \
  X(multiplies)           /* HIF mantissa x scale x activation products */                          \
  X(acc_adds)             /* adds into the wide accumulators */                                     \
  X(outlier_ops)          /* outlier corrections applied (per batch vector) */                      \
  X(output_words)         /* fp32 results written back */                                           \
  X(instructions)         /* instructions fetched and executed */                                   \
  X(bank_conflict_cycles) /* extra LUT cycles lost to bank conflicts */

struct ActionCounts {
#define LUTC_ACTION_FIELD(name) uint64_t name = 0;
  LUTC_ACTION_COUNTS(LUTC_ACTION_FIELD)
#undef LUTC_ACTION_FIELD
};

// Every engine unit in the order reports list them (the names are the JSON
// keys), and whether it does work of its own: the SRAMs and the accumulators
// are busy exactly when their users are, so they never name the bottleneck.
#define LUTC_ENGINE_UNITS(X) \
  X(controller, true)        \
  X(dma, true)               \
  X(weight_sram, false)      \
  X(act_sram, false)         \
  X(lut, true)               \
  X(lanes, true)             \
  X(accumulator, false)      \
  X(outlier, true)           \
  X(writeback, true)

#define LUTC_ENGINE_UNIT_NAME(name, own_work) #name,
inline const char* const kEngineUnits[] = {LUTC_ENGINE_UNITS(LUTC_ENGINE_UNIT_NAME)};
#undef LUTC_ENGINE_UNIT_NAME
#define LUTC_ENGINE_UNIT_OWN_WORK(name, own_work) own_work,
inline constexpr bool kEngineUnitOwnWork[] = {LUTC_ENGINE_UNITS(LUTC_ENGINE_UNIT_OWN_WORK)};
#undef LUTC_ENGINE_UNIT_OWN_WORK

// The bottleneck, the one definition every engine and explore use: the unit
// of its own work with the most busy cycles, the first in kEngineUnits order
// on a tie, "" when no such unit was busy. busy(name) gives a unit's cycles.
template <class BusyOf>
std::string bottleneck_of(BusyOf busy) {
  std::string best;
  uint64_t most = 0;
  for (size_t u = 0; u < sizeof kEngineUnits / sizeof kEngineUnits[0]; ++u) {
    if (!kEngineUnitOwnWork[u]) continue;
    const uint64_t b = busy(kEngineUnits[u]);
    if (b > most) most = b, best = kEngineUnits[u];
  }
  return best;
}

struct UnitTime {
  uint64_t busy_cycles = 0;
  uint64_t stall_cycles = 0;
};

// The parts energy_of splits energy into, in report order: the keys of
// EnergyBreakdown::pj and explore's energy_<part>_pj columns.
inline const char* const kEnergyParts[] = {"dram",       "sram",    "lut",     "multiply",
                                           "accumulate", "outlier", "control", "leakage"};

struct EnergyBreakdown {
  std::map<std::string, double> pj;  // keyed by kEnergyParts
  double total_pj = 0;
};

EnergyBreakdown energy_of(const ArchConfig& arch, const ActionCounts& a, uint64_t cycles);

// The share of the arch's peak DRAM bandwidth (dram.bytes_per_cycle at the
// clock) that moving `dram_bytes` in `seconds` uses; 0 when either is zero.
double dram_bw_fraction(const ArchConfig& arch, double dram_bytes, double seconds);

struct EngineStats {
  std::string engine;  // "systemc" | "rtl" | "exec"
  std::string layer;
  std::string arch;  // arch name
  uint64_t arch_hash = 0;
  uint32_t rows = 0, cols = 0, batch = 1;
  uint64_t cycles = 0;
  std::map<std::string, UnitTime> units;  // keyed by kEngineUnits
  ActionCounts actions;
  std::string bottleneck;  // bottleneck_of(units) ("dma" = memory-bound)

  // Derived from the above and the arch (fill with finish()).
  double seconds = 0;
  double tokens_per_s = 0;  // 1 / seconds: one decode step of this layer per token
  double dram_bytes_per_s = 0;
  double dram_bw_fraction = 0;  // of arch.dram_bytes_per_cycle * clock
  EnergyBreakdown energy;
  double pj_per_weight = 0;

  void finish(const ArchConfig& arch);
};

nlohmann::json to_json(const EngineStats& s);
EngineStats stats_from_json(const nlohmann::json& j);  // throws Error(kBadInput) on missing keys

}  // namespace lutc

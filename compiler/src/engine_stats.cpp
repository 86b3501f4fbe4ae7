#include "lutc/compiler/engine_stats.h"

#include <algorithm>
#include <cmath>

#include "lutc/model/error.h"

namespace lutc {
namespace {

// SRAM read energy per 64 bits, interpolated in log(size) between the
// table's reference sizes (Horowitz gives 8 KB, 32 KB and 1 MB points).
double sram_pj_per_byte(const EnergyTable& e, double kib) {
  const double k = std::max(kib, 1.0);
  double pj64;
  if (k <= 8) {
    pj64 = e.sram_read_64b_8kib_pj;
  } else if (k <= 32) {
    const double t = std::log2(k / 8) / 2;  // 8 -> 32 KiB is two octaves
    pj64 = e.sram_read_64b_8kib_pj + t * (e.sram_read_64b_32kib_pj - e.sram_read_64b_8kib_pj);
  } else {
    const double t = std::min(1.0, std::log2(k / 32) / 5);  // 32 KiB -> 1 MiB is five octaves
    pj64 = e.sram_read_64b_32kib_pj + t * (e.sram_read_64b_1mib_pj - e.sram_read_64b_32kib_pj);
  }
  return pj64 / 8;
}

}  // namespace

EnergyBreakdown energy_of(const ArchConfig& arch, const ActionCounts& a, uint64_t cycles) {
  const EnergyTable& e = arch.energy;
  const double s = e.node_scale;
  const double w_sram = sram_pj_per_byte(e, arch.weight_sram_kib);
  const double a_sram = sram_pj_per_byte(e, arch.act_sram_kib);
  const double mult = arch.act_bits <= 8 ? e.mult_8b_pj : e.mult_16b_pj;
  EnergyBreakdown b;
  b.pj["dram"] = double(a.dram_bytes) * e.dram_byte_pj;
  b.pj["sram"] =
      s *
      (double(a.weight_sram_read_bytes) * w_sram + double(a.weight_sram_write_bytes) * w_sram * e.sram_write_factor +
       double(a.act_sram_read_bytes) * a_sram + double(a.act_sram_write_bytes) * a_sram * e.sram_write_factor);
  b.pj["lut"] = s * (double(a.lut_reads) + double(a.lut_writes) * e.sram_write_factor) * e.lut_read_pj;
  b.pj["multiply"] = s * double(a.multiplies) * mult;
  b.pj["accumulate"] = s * double(a.acc_adds) * e.acc_add_pj;
  b.pj["outlier"] = s * double(a.outlier_ops) * e.outlier_op_pj;
  // Instruction fetch/decode and writeback: one 32-bit add-class op each.
  b.pj["control"] = s * double(a.instructions + a.output_words) * e.add_32b_pj;
  b.pj["leakage"] = s * double(cycles) * e.leakage_pj_per_cycle;
  for (const auto& [k, v] : b.pj) b.total_pj += v;
  return b;
}

double dram_bw_fraction(const ArchConfig& arch, double dram_bytes, double seconds) {
  const double per_s = seconds > 0 ? dram_bytes / seconds : 0;
  const double peak = arch.dram_bytes_per_cycle * arch.clock_mhz * 1e6;
  return peak > 0 ? per_s / peak : 0;
}

void EngineStats::finish(const ArchConfig& a) {
  seconds = double(cycles) / (a.clock_mhz * 1e6);
  tokens_per_s = seconds > 0 ? 1.0 / seconds : 0;
  dram_bytes_per_s = seconds > 0 ? double(actions.dram_bytes) / seconds : 0;
  dram_bw_fraction = lutc::dram_bw_fraction(a, double(actions.dram_bytes), seconds);
  energy = energy_of(a, actions, cycles);
  const double weights = double(rows) * cols;
  pj_per_weight = weights > 0 ? energy.total_pj / weights : 0;
  bottleneck = bottleneck_of([&](const char* u) {
    const auto it = units.find(u);
    return it == units.end() ? uint64_t(0) : it->second.busy_cycles;
  });
}

nlohmann::json to_json(const EngineStats& s) {
  nlohmann::json units = nlohmann::json::object();
  for (const auto& [name, t] : s.units) {
    units[name] = {{"busy_cycles", t.busy_cycles},
                   {"stall_cycles", t.stall_cycles},
                   {"utilization", s.cycles ? double(t.busy_cycles) / double(s.cycles) : 0.0}};
  }
  const ActionCounts& a = s.actions;
  nlohmann::json actions = nlohmann::json::object();
#define LUTC_ACTION_TO_JSON(name) actions[#name] = a.name;
  LUTC_ACTION_COUNTS(LUTC_ACTION_TO_JSON)
#undef LUTC_ACTION_TO_JSON
  return {{"engine", s.engine},
          {"layer", s.layer},
          {"arch", s.arch},
          {"arch_hash", s.arch_hash},
          {"rows", s.rows},
          {"cols", s.cols},
          {"batch", s.batch},
          {"cycles", s.cycles},
          {"seconds", s.seconds},
          {"tokens_per_s", s.tokens_per_s},
          {"dram_bytes_per_s", s.dram_bytes_per_s},
          {"dram_bw_fraction", s.dram_bw_fraction},
          {"bottleneck", s.bottleneck},
          {"units", units},
          {"actions", actions},
          {"energy_pj", s.energy.pj},
          {"energy_total_pj", s.energy.total_pj},
          {"pj_per_weight", s.pj_per_weight}};
}

EngineStats stats_from_json(const nlohmann::json& j) {
  try {
    EngineStats s;
    s.engine = j.at("engine");
    s.layer = j.at("layer");
    s.arch = j.at("arch");
    s.arch_hash = j.at("arch_hash");
    s.rows = j.at("rows");
    s.cols = j.at("cols");
    s.batch = j.at("batch");
    s.cycles = j.at("cycles");
    s.seconds = j.at("seconds");
    s.tokens_per_s = j.at("tokens_per_s");
    s.dram_bytes_per_s = j.at("dram_bytes_per_s");
    s.dram_bw_fraction = j.at("dram_bw_fraction");
    s.bottleneck = j.at("bottleneck");
    for (const auto& [name, t] : j.at("units").items())
      s.units[name] = {t.at("busy_cycles").get<uint64_t>(), t.at("stall_cycles").get<uint64_t>()};
    const auto& a = j.at("actions");
    ActionCounts& c = s.actions;
#define LUTC_ACTION_FROM_JSON(name) c.name = a.at(#name);
    LUTC_ACTION_COUNTS(LUTC_ACTION_FROM_JSON)
#undef LUTC_ACTION_FROM_JSON
    s.energy.pj = j.at("energy_pj").get<std::map<std::string, double>>();
    s.energy.total_pj = j.at("energy_total_pj");
    s.pj_per_weight = j.at("pj_per_weight");
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw Error(ExitCode::kBadInput, std::string("stats JSON: ") + e.what());
  }
}

}  // namespace lutc

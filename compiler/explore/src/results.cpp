#include "lutc/explore/results.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "lutc/compiler/arch_config.h"
#include "lutc/compiler/engine_stats.h"

namespace lutc::explore {
using nlohmann::json;

const std::vector<std::string>& result_columns() {
  static const std::vector<std::string> c = [] {
    std::vector<std::string> cols = {"point", "key",  "status",         "scheme",
                                     "quant", "arch", "arch_overrides", "arch_hash"};
    // The arch keys' columns, in key-table order (arch_keys.def).
    for (const ArchKeyInfo& k : arch_keys())
      if (!k.column.empty()) cols.push_back(k.column);
    for (const char* col :
         {"blocks", "batch", "layers", "params", "bpw", "sqnr_db", "cos_min", "hif_sqnr_db_min", "quality_db",
          "cycles_per_token", "seconds_per_token", "tokens_per_s", "energy_pj_per_token", "pj_per_weight"})
      cols.push_back(col);
    for (const char* part : kEnergyParts) cols.push_back(energy_column(part));
    for (const char* col : {"dram_bw_fraction", "bottleneck", "lut_bits", "sram_bits", "program_bytes", "engine",
                            "pareto", "rtl_cycles", "rtl_cycle_diff_pct", "detail"})
      cols.push_back(col);
    return cols;
  }();
  return c;
}

std::string energy_column(const std::string& part) { return "energy_" + part + "_pj"; }

namespace {

double num(const json& r, const char* k, double if_null) {
  const auto it = r.find(k);
  return it != r.end() && it->is_number() ? it->get<double>() : if_null;
}

bool ok(const json& r) { return r.value("status", "") == "ok"; }

}  // namespace

void mark_pareto(std::vector<json>& rows) {
  const double inf = std::numeric_limits<double>::infinity();
  for (auto& r : rows) {
    if (!ok(r)) {
      r["pareto"] = 0;
      continue;
    }
    const double q = num(r, "quality_db", inf), e = num(r, "energy_pj_per_token", inf), t = num(r, "tokens_per_s", 0);
    bool dominated = false;
    for (const auto& o : rows) {
      if (&o == &r || !ok(o)) continue;
      const double oq = num(o, "quality_db", inf), oe = num(o, "energy_pj_per_token", inf),
                   ot = num(o, "tokens_per_s", 0);
      if (oq >= q && oe <= e && ot >= t && (oq > q || oe < e || ot > t)) {
        dominated = true;
        break;
      }
    }
    r["pareto"] = dominated ? 0 : 1;
  }
}

std::string csv_cell(const json& v) {
  if (v.is_null()) return "";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    char b[40];
    std::snprintf(b, sizeof b, "%.9g", d);
    return b;
  }
  const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string results_csv(const std::vector<json>& rows) {
  std::string out;
  const auto& cols = result_columns();
  for (size_t i = 0; i < cols.size(); ++i) out += (i ? "," : "") + cols[i];
  out += "\n";
  for (const auto& r : rows) {
    for (size_t i = 0; i < cols.size(); ++i) {
      const auto it = r.find(cols[i]);
      out += (i ? "," : "") + (it == r.end() ? std::string() : csv_cell(*it));
    }
    out += "\n";
  }
  return out;
}

json results_json(const std::string& sweep_name, const std::string& sweep_hash, const std::vector<json>& rows) {
  json j;
  j["sweep"] = sweep_name;
  j["sweep_hash"] = sweep_hash;
  j["columns"] = result_columns();
  json arr = json::array();
  for (const auto& r : rows) {
    json o = json::object();
    for (const auto& c : result_columns()) o[c] = r.contains(c) ? r[c] : json();
    arr.push_back(o);
  }
  j["points"] = arr;
  return j;
}

}  // namespace lutc::explore

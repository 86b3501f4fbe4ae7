#include "lutc/sim/report.h"

#include <cstdio>

#include "lutc/model/atomic_file.h"

namespace lutc::sim {

nlohmann::json report_json(const SimResult& r) {
  nlohmann::json j = to_json(r.total);
  if (r.layers.size() > 1) {
    nlohmann::json layers = nlohmann::json::array();
    for (const LayerResult& l : r.layers) layers.push_back(to_json(l.stats));
    j["layers"] = layers;
  }
  return j;
}

std::string layer_table(const SimResult& r) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-32s %13s %12s %11s %8s %12s %9s\n", "layer", "shape", "cycles", "bottleneck",
                "DRAM %", "energy uJ", "pJ/w");
  out += line;
  auto row = [&](const EngineStats& s, const std::string& shape) {
    std::snprintf(line, sizeof line, "%-32s %13s %12llu %11s %8.1f %12.3f %9.3f\n", s.layer.substr(0, 32).c_str(),
                  shape.c_str(), (unsigned long long)s.cycles, s.bottleneck.c_str(), 100 * s.dram_bw_fraction,
                  s.energy.total_pj * 1e-6, s.pj_per_weight);
    out += line;
  };
  for (const LayerResult& l : r.layers)
    row(l.stats, std::to_string(l.stats.rows) + "x" + std::to_string(l.stats.cols));
  if (r.layers.size() > 1) row(r.total, "total");
  std::snprintf(line, sizeof line, "%llu cycles = %.6g s at the arch clock: %.3g tokens/s; DRAM %.3g GB/s\n",
                (unsigned long long)r.total.cycles, r.total.seconds, r.total.tokens_per_s,
                r.total.dram_bytes_per_s * 1e-9);
  out += line;
  return out;
}

void write_trace(const std::string& path, const SimResult& r, double clock_mhz) {
  nlohmann::json events = nlohmann::json::array();
  events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", 1}, {"args", {{"name", "lutc engine (" + r.total.arch + ")"}}}});
  events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", 0}, {"args", {{"name", "layers"}}}});
  for (unsigned u = 0; u < kUnitCount; ++u)
    events.push_back(
        {{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", u + 1}, {"args", {{"name", unit_name(Unit(u))}}}});
  const double us = 1.0 / clock_mhz;
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const LayerResult& l = r.layers[i];
    events.push_back({{"name", l.stats.layer},
                      {"ph", "X"},
                      {"pid", 1},
                      {"tid", 0},
                      {"ts", l.start_cycle * us},
                      {"dur", double(l.stats.cycles) * us},
                      {"args", {{"cycles", l.stats.cycles}, {"bottleneck", l.stats.bottleneck}}}});
  }
  for (const Slice& s : r.slices) {
    events.push_back({{"name", s.label.empty() ? unit_name(s.unit) : s.label},
                      {"ph", "X"},
                      {"pid", 1},
                      {"tid", unsigned(s.unit) + 1},
                      {"ts", s.start * us},
                      {"dur", (s.end - s.start) * us},
                      {"args", {{"start_cycle", s.start}, {"cycles", s.end - s.start}, {"layer", s.layer}}}});
  }
  const nlohmann::json doc = {{"traceEvents", events}, {"displayTimeUnit", "ns"}};
  const std::string text = doc.dump();
  AtomicFile f(path);
  f.write(text.data(), text.size());
  f.commit();
}

}  // namespace lutc::sim

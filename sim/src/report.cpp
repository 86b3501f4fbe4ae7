#include "lutc/sim/report.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

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
  // The name column fits the longest layer name: names are never cut.
  int w = 32;
  for (const LayerResult& l : r.layers) w = std::max(w, int(l.stats.layer.size()));
  std::vector<char> buf(size_t(w) + 256);
  char* line = buf.data();
  const size_t cap = buf.size();
  out += "arch: " + r.total.arch + "\n";
  std::snprintf(line, cap, "%-*s %13s %12s %11s %8s %12s %9s\n", w, "layer", "shape", "cycles", "bottleneck", "DRAM %",
                "energy uJ", "pJ/w");
  out += line;
  auto row = [&](const EngineStats& s, const std::string& shape) {
    std::snprintf(line, cap, "%-*s %13s %12llu %11s %8.1f %12.3f %9.3f\n", w, s.layer.c_str(), shape.c_str(),
                  (unsigned long long)s.cycles, s.bottleneck.c_str(), 100 * s.dram_bw_fraction,
                  s.energy.total_pj * 1e-6, s.pj_per_weight);
    out += line;
  };
  for (const LayerResult& l : r.layers) row(l.stats, std::to_string(l.stats.rows) + "x" + std::to_string(l.stats.cols));
  if (r.layers.size() > 1) row(r.total, "total");
  std::snprintf(line, cap, "%llu cycles = %.6g s at the arch clock: %.3g tokens/s; DRAM %.3g GB/s\n",
                (unsigned long long)r.total.cycles, r.total.seconds, r.total.tokens_per_s,
                r.total.dram_bytes_per_s * 1e-9);
  out += line;
  return out;
}

namespace {

// Trace events on one track must not overlap (Perfetto draws a track as a
// stack of properly nested slices), but a unit can be busy with several
// things at once (two ports, a pipeline's phases, DMA requests in flight).
// Each slice goes to the first of its unit's lanes that is free when it
// starts; every lane is a track of its own. Times are whole cycles: the
// model's cycle counts are integers and the doubles only carry rounding.
struct Placed {
  int64_t start = 0, end = 0;  // cycles
  unsigned lane = 0;
};

std::vector<Placed> place_on_lanes(const std::vector<std::pair<int64_t, int64_t>>& spans, unsigned* lanes_used) {
  std::vector<size_t> order(spans.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return spans[a] < spans[b]; });
  std::vector<int64_t> lane_end;
  std::vector<Placed> out(spans.size());
  for (size_t i : order) {
    const auto [start, end] = spans[i];
    unsigned lane = 0;
    while (lane < lane_end.size() && lane_end[lane] > start) ++lane;
    if (lane == lane_end.size()) lane_end.push_back(end);
    lane_end[lane] = end;
    out[i] = {start, end, lane};
  }
  *lanes_used = unsigned(lane_end.size());
  return out;
}

int64_t whole_cycles(double c) { return int64_t(std::llround(c)); }

}  // namespace

void write_trace(const std::string& path, const SimResult& r, double clock_mhz) {
  nlohmann::json events = nlohmann::json::array();
  const double us = 1.0 / clock_mhz;
  auto track_name = [&](unsigned tid, const std::string& name, unsigned sort) {
    events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", tid}, {"args", {{"name", name}}}});
    events.push_back(
        {{"name", "thread_sort_index"}, {"ph", "M"}, {"pid", 1}, {"tid", tid}, {"args", {{"sort_index", sort}}}});
  };
  auto slice = [&](const std::string& name, unsigned tid, const Placed& p, nlohmann::json args) {
    args["start_cycle"] = p.start;
    args["cycles"] = p.end - p.start;
    events.push_back({{"name", name},
                      {"ph", "X"},
                      {"pid", 1},
                      {"tid", tid},
                      {"ts", double(p.start) * us},
                      {"dur", double(p.end - p.start) * us},
                      {"args", std::move(args)}});
  };
  events.push_back(
      {{"name", "process_name"}, {"ph", "M"}, {"pid", 1}, {"args", {{"name", "lutc engine (" + r.total.arch + ")"}}}});

  // Tracks: tid 0.. for the layers' lanes, then each unit's lanes in unit order.
  unsigned next_tid = 0;
  {
    std::vector<std::pair<int64_t, int64_t>> spans;
    for (const LayerResult& l : r.layers)
      spans.push_back({whole_cycles(l.start_cycle), whole_cycles(l.start_cycle) + int64_t(l.stats.cycles)});
    unsigned lanes = 0;
    const std::vector<Placed> placed = place_on_lanes(spans, &lanes);
    for (unsigned k = 0; k < std::max(1u, lanes); ++k)
      track_name(next_tid + k, k ? "layers #" + std::to_string(k + 1) : std::string("layers"), k);
    for (size_t i = 0; i < r.layers.size(); ++i) {
      const LayerResult& l = r.layers[i];
      slice(l.stats.layer, next_tid + placed[i].lane, placed[i], {{"bottleneck", l.stats.bottleneck}});
    }
    next_tid += std::max(1u, lanes);
  }
  for (unsigned u = 0; u < kUnitCount; ++u) {
    std::vector<size_t> mine;
    std::vector<std::pair<int64_t, int64_t>> spans;
    for (size_t i = 0; i < r.slices.size(); ++i) {
      const Slice& s = r.slices[i];
      if (unsigned(s.unit) != u) continue;
      mine.push_back(i);
      spans.push_back({whole_cycles(s.start), whole_cycles(s.end)});
    }
    unsigned lanes = 0;
    const std::vector<Placed> placed = place_on_lanes(spans, &lanes);
    const std::string unit = unit_name(Unit(u));
    for (unsigned k = 0; k < std::max(1u, lanes); ++k)
      track_name(next_tid + k, k ? unit + " #" + std::to_string(k + 1) : unit, 1000 * (u + 1) + k);
    for (size_t j = 0; j < mine.size(); ++j) {
      const Slice& s = r.slices[mine[j]];
      slice(s.label.empty() ? unit : s.label, next_tid + placed[j].lane, placed[j], {{"layer", s.layer}});
    }
    next_tid += std::max(1u, lanes);
  }
  const nlohmann::json doc = {{"traceEvents", events}, {"displayTimeUnit", "ns"}};
  const std::string text = doc.dump();
  AtomicFile f(path);
  f.write(text.data(), text.size());
  f.commit();
}

}  // namespace lutc::sim

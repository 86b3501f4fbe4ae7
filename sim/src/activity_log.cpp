#include "lutc/sim/activity_log.h"

#include <algorithm>

namespace lutc::sim {

const char* unit_name(Unit u) { return kEngineUnits[static_cast<unsigned>(u)]; }

void ActivityLog::busy(Unit u, double start, double end, const char* label, const std::string& detail) {
  if (end <= start) return;
  Slice s;
  s.start = start;
  s.end = end;
  s.unit = u;
  s.layer = layer_;
  if (keep_labels_) s.label = detail.empty() ? std::string(label) : detail;
  slices_.push_back(std::move(s));
}

std::vector<std::vector<double>> ActivityLog::busy_by_layer(uint32_t layers) const {
  // Intervals of one (layer, unit) may overlap (a pipeline's phases, two ports):
  // sort them and count the covered cycles once.
  std::vector<std::vector<std::pair<double, double>>> spans(size_t(layers) * kUnitCount);
  for (const Slice& s : slices_)
    if (s.layer < layers) spans[size_t(s.layer) * kUnitCount + unsigned(s.unit)].push_back({s.start, s.end});
  std::vector<std::vector<double>> busy(layers, std::vector<double>(kUnitCount, 0.0));
  for (uint32_t l = 0; l < layers; ++l) {
    for (unsigned u = 0; u < kUnitCount; ++u) {
      auto& v = spans[size_t(l) * kUnitCount + u];
      std::sort(v.begin(), v.end());
      double covered = 0, open = 0, close = -1;
      for (const auto& [a, b] : v) {
        if (a > close) {
          if (close > open) covered += close - open;
          open = a;
          close = b;
        } else {
          close = std::max(close, b);
        }
      }
      if (close > open) covered += close - open;
      busy[l][u] = covered;
    }
  }
  return busy;
}

}  // namespace lutc::sim

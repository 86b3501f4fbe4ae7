#pragma once
// What `lutc sim` writes: the stats-schema JSON (a decode step over several
// layers is the summed object plus a "layers" array of per-layer objects), a
// per-layer text table, and the Chrome / Perfetto trace.
#include <string>

#include <nlohmann/json.hpp>

#include "lutc/sim/simulate.h"

namespace lutc::sim {

nlohmann::json report_json(const SimResult& r);
std::string layer_table(const SimResult& r);
// Trace-event JSON: one track (thread) per unit, one complete event per tile
// phase, timestamps in microseconds at the arch clock; a "layers" track when
// there are several. Written atomically.
void write_trace(const std::string& path, const SimResult& r, double clock_mhz);

}  // namespace lutc::sim

#include "lutc/sim/simulate.h"

#include <cmath>
#include <memory>
#include <string>

#include "lutc/model/error.h"
#include "lutc/sim/action_math.h"
#include "lutc/sim/engine.h"
#include "lutc/sim/unit_guard.h"

namespace lutc::sim {
namespace {

uint64_t whole_cycles(double c) { return uint64_t(std::ceil(c - 1e-6)); }

SimResult collect(Engine& e) {
  SimResult out;
  const uint32_t n = uint32_t(e.layers.size());
  const std::vector<std::vector<double>> busy = e.log.busy_by_layer(n);
  out.total.engine = "systemc";
  out.total.layer = n == 1 ? e.windows[0].layer : "decode step (" + std::to_string(n) + " layers)";
  out.total.arch = e.arch.name;
  out.total.arch_hash = arch_hash(e.arch);
  out.total.batch = e.batch;
  for (uint32_t i = 0; i < n; ++i) {
    const LayerWindow& w = e.windows[i];
    LayerResult r;
    EngineStats& s = r.stats;
    s.engine = "systemc";
    s.layer = w.layer;
    s.arch = e.arch.name;
    s.arch_hash = out.total.arch_hash;
    s.rows = w.rows;
    s.cols = w.cols;
    s.batch = e.batch;
    s.cycles = whole_cycles(w.end - w.start);
    s.actions = w.actions_after - w.actions_before;
    for (unsigned u = 0; u < kUnitCount; ++u) {
      UnitTime t{whole_cycles(busy[i][u]), whole_cycles(w.stall_after[u] - w.stall_before[u])};
      s.units[unit_name(Unit(u))] = t;
      UnitTime& tt = out.total.units[unit_name(Unit(u))];
      tt.busy_cycles += t.busy_cycles;
      tt.stall_cycles += t.stall_cycles;
    }
    s.finish(e.arch);
    r.start_cycle = w.start;
    r.y = std::move(e.outputs[i]);
    out.total.cycles += s.cycles;
    out.total.actions += s.actions;
    // A decode step reports its largest layer's shape; pJ/weight is over every layer's weights.
    out.total.rows = std::max(out.total.rows, s.rows);
    out.total.cols = std::max(out.total.cols, s.cols);
    out.layer_names.push_back(w.layer);
    out.layers.push_back(std::move(r));
  }
  out.total.finish(e.arch);
  double weights = 0;
  for (const LayerResult& r : out.layers) weights += double(r.stats.rows) * r.stats.cols;
  out.total.pj_per_weight = weights > 0 ? out.total.energy.total_pj / weights : 0;
  out.slices = e.log.slices();
  out.issues = std::move(e.issues);
  out.memory_bytes = e.memory_bytes();
  return out;
}

}  // namespace

std::vector<SimResult> simulate(std::vector<SimJob> jobs) {
  if (!inside_systemc()) throw Error(ExitCode::kInternal, "simulate() must run inside run_in_systemc()");
  std::vector<std::unique_ptr<Engine>> engines;
  for (size_t i = 0; i < jobs.size(); ++i) {
    SimJob& j = jobs[i];
    if (j.batch == 0) throw Error(ExitCode::kUsage, "sim: batch is zero");
    engines.push_back(std::make_unique<Engine>(("engine" + std::to_string(i)).c_str(), j.arch, j.batch,
                                               std::move(j.layers), j.options));
  }
  sc_core::sc_start();
  if (std::exception_ptr f = take_failure()) std::rethrow_exception(f);
  std::vector<SimResult> results;
  for (auto& e : engines) {
    // Every layer ran to END, or the controller would still be waiting.
    if (!e->layers.empty() && e->windows.back().end <= 0 && e->windows.back().actions_after.instructions == 0)
      throw Error(ExitCode::kInternal, "sim: the engine stopped before the last layer ended");
    results.push_back(collect(*e));
  }
  return results;
}

SimResult simulate(SimJob job) {
  std::vector<SimJob> jobs;
  jobs.push_back(std::move(job));
  return std::move(simulate(std::move(jobs)).front());
}

}  // namespace lutc::sim

#pragma once
// Runs a sweep (or one shard of it) into an output folder, resumably, with N
// workers; merges shard folders into the result an unsharded run gives.
//
// Folder layout (docs/explore.md): manifest.json (the sweep, the shard, the
// points it owns), points/<key>.json (one finished point each: its row and
// per-layer table), results.csv + results.json, and for a whole sweep also
// plots/ and report.html.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lutc/explore/point_runner.h"
#include "lutc/explore/report.h"
#include "lutc/explore/sweep.h"
#include "lutc/model/error.h"

namespace lutc::explore {

struct RunOptions {
  std::string out_dir;
  std::string cache_dir;  // quantized weights and activations; shareable between runs and shards
  unsigned jobs = 1;
  unsigned shard = 0, shards = 1;
  EngineOptions engine;
  std::string lutc_exe;    // runs `lutc quantize`
  unsigned rtl_check = 0;  // re-run this many sampled ok points on `lutc rtl`
  // Bound of the in-process program cache (program_cache.h); 0: every point compiles its own.
  uint64_t program_cache_bytes = kDefaultProgramCacheMiB << 20;
  bool keep_going = true;  // finish the other points when one fails
  // Progress hooks, called under a lock: the number of points to run, then each start.
  std::function<void(size_t pending, size_t resumed)> on_begin;
  std::function<void(size_t index, const std::string& label)> on_start;
};

struct RunSummary {
  size_t owned = 0, resumed = 0, ran = 0;
  std::vector<std::string> failures;  // "point N: why"
  // The exit class of the failed point with the lowest index (a child's 3 or
  // 4 passed on, exit_code_of_child); kOk when none failed.
  ExitCode failure_code = ExitCode::kOk;
  std::vector<std::string> notes;  // rtl checks that could not run, and why
  unsigned quantized = 0;          // cache misses
  double wall_s = 0, engine_s = 0, compile_s = 0;
  ProgramCache::Stats programs;  // layers compiled vs re-targeted from the program cache
  bool complete = false;         // every owned point has a result
  ReportFiles report;            // when a whole sweep completed
};

// The indices shard I of N owns: i % N == I (round robin keeps the shards'
// mix of cheap and expensive points alike).
std::vector<size_t> shard_indices(size_t points, unsigned shard, unsigned shards);

RunSummary run_sweep(const Sweep& s, const RunOptions& o);

// Merges the folders of a sharded run into out_dir; throws Error(kBadInput)
// when they describe different sweeps or a point is missing.
RunSummary merge_runs(const std::vector<std::string>& dirs, const std::string& out_dir);

// "3/8" -> {3, 8}; throws Error(kUsage).
std::pair<unsigned, unsigned> parse_shard(const std::string& spec);

}  // namespace lutc::explore

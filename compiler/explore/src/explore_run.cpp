#include "lutc/explore/explore_run.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "lutc/explore/quant_cache.h"
#include "lutc/explore/results.h"
#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"
#include "lutc/model/exit_class.h"

namespace lutc::explore {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kManifestFormat = "lutc-explore-1";

void write_text(const fs::path& path, const std::string& text) {
  AtomicFile f(path.string());
  f.write(text.data(), text.size());
  f.commit();
}

void write_json(const fs::path& path, const json& j) { write_text(path, j.dump(1) + "\n"); }

json read_json(const fs::path& path) {
  std::ifstream f(path);
  if (!f) throw Error(ExitCode::kIo, "cannot read '" + path.string() + "'");
  try {
    return json::parse(f);
  } catch (const json::exception& e) {
    throw Error(ExitCode::kBadInput, "'" + path.string() + "' is not valid JSON: " + e.what());
  }
}

fs::path point_path(const std::string& dir, const std::string& key) {
  return fs::path(dir) / "points" / (key + ".json");
}

std::string sweep_hash_hex(const Sweep& s) {
  char b[20];
  std::snprintf(b, sizeof b, "%016llx", (unsigned long long)s.hash());
  return b;
}

// results.csv / results.json from the manifest's points, in sweep order; a
// whole sweep also gets the Pareto flags, the plots and report.html.
void finalize(const std::string& out_dir, const json& manifest, bool whole, RunSummary* sum) {
  std::vector<json> rows;
  for (const auto& p : manifest.at("points")) {
    json row = read_json(point_path(out_dir, p.at("key").get<std::string>())).at("row");
    row["point"] = p.at("index");
    rows.push_back(std::move(row));
  }
  if (whole) mark_pareto(rows);
  write_text(fs::path(out_dir) / "results.csv", results_csv(rows));
  write_json(fs::path(out_dir) / "results.json",
             results_json(manifest.at("sweep").get<std::string>(), manifest.at("sweep_hash").get<std::string>(), rows));
  if (whole) sum->report = write_report(out_dir, manifest.at("sweep").get<std::string>(), rows);
}

void rtl_check(const Sweep& s, const RunOptions& o, const json& manifest, QuantCache& cache, ActivationStore& acts,
               HifErrorCache& hif_errors, ProgramCache& programs, RunSummary* sum) {
  std::vector<std::pair<size_t, std::string>> ok;
  for (const auto& p : manifest.at("points")) {
    const std::string key = p.at("key");
    if (read_json(point_path(o.out_dir, key)).at("row").value("status", "") == "ok")
      ok.emplace_back(p.at("index"), key);
  }
  const size_t n = std::min<size_t>(o.rtl_check, ok.size());
  EngineOptions rtl = o.engine;
  rtl.command = "rtl";
  rtl.per_layer = true;
  for (size_t k = 0; k < n; ++k) {
    const auto& [index, key] = ok[k * ok.size() / n];  // evenly spaced, the same every run
    json point = read_json(point_path(o.out_dir, key));
    if (point.at("row").contains("rtl_cycles")) continue;
    try {
      const json r = run_point(s, index, *cache.get(s, s.quant_of(index)), rtl, acts, hif_errors, programs,
                               (fs::path(o.out_dir) / "work").string());
      const double sim = point["row"].at("cycles_per_token"), hw = r.at("row").at("cycles_per_token");
      point["row"]["rtl_cycles"] = hw;
      point["row"]["rtl_cycle_diff_pct"] = hw > 0 ? 100.0 * (sim - hw) / hw : 0.0;
      write_json(point_path(o.out_dir, key), point);
    } catch (const std::exception& e) {
      // The RTL is verilated for one structure; a point it refuses keeps its
      // SystemC result and says why, it does not fail the sweep.
      sum->notes.push_back("rtl check of point " + std::to_string(index) + ": " + e.what());
    }
  }
}

}  // namespace

std::pair<unsigned, unsigned> parse_shard(const std::string& spec) {
  unsigned i = 0, n = 0;
  char extra = 0;
  if (std::sscanf(spec.c_str(), "%u/%u%c", &i, &n, &extra) != 2 || n == 0 || i >= n)
    throw Error(ExitCode::kUsage, "--shard '" + spec + "' must be I/N with 0 <= I < N");
  return {i, n};
}

std::vector<size_t> shard_indices(size_t points, unsigned shard, unsigned shards) {
  std::vector<size_t> v;
  for (size_t i = shard; i < points; i += shards) v.push_back(i);
  return v;
}

namespace {

using Pending = std::vector<std::pair<size_t, std::string>>;  // (point index, point key)

// The manifest of this shard: the sweep and the points it owns, with their
// keys. An owned point whose result is already on disk counts as resumed;
// the others are appended to pending.
json shard_manifest(const Sweep& s, const RunOptions& o, QuantCache& cache, Pending* pending, RunSummary* sum) {
  json manifest;
  manifest["format"] = kManifestFormat;
  manifest["sweep"] = s.name;
  manifest["sweep_hash"] = sweep_hash_hex(s);
  manifest["sweep_text"] = s.text;
  manifest["points_total"] = s.points();
  manifest["shard"] = o.shard;
  manifest["shards"] = o.shards;
  json owned = json::array();
  for (size_t i : shard_indices(s.points(), o.shard, o.shards)) {
    const std::string key = point_key(s, i, cache.key_of(s, s.quant_of(i)), o.engine.mode());
    owned.push_back({{"index", i}, {"key", key}});
    if (fs::exists(point_path(o.out_dir, key)))
      ++sum->resumed;
    else
      pending->emplace_back(i, key);
  }
  manifest["points"] = owned;
  sum->owned = owned.size();
  return manifest;
}

// Points sharing (quantization, arch code key) run one after another, so
// the program cache needs to hold about one such group per worker. The
// order of work never shows in the results, which are written by index.
void group_by_program(const Sweep& s, Pending* pending) {
  std::map<std::pair<size_t, uint64_t>, size_t> group;  // -> rank of first appearance
  auto rank = [&](size_t index) {
    const auto k = std::make_pair(index / s.archs.size(), arch_code_key(s.arch_of(index).arch));
    return group.emplace(k, group.size()).first->second;
  };
  for (const auto& p : *pending) rank(p.first);
  std::stable_sort(pending->begin(), pending->end(),
                   [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
}

void record_success(const json& p, RunSummary* sum) {
  ++sum->ran;
  if (p.contains("timing")) {
    sum->engine_s += p["timing"].value("engine_s", 0.0);
    sum->compile_s += p["timing"].value("compile_s", 0.0);
  }
}

// The exit class is the failed point's with the lowest index, not the first
// to finish, so --jobs never changes the exit code.
void record_failure(size_t index, const QuantConfig& q, const ArchPoint& a, const std::exception& e,
                    size_t* first_failed, RunSummary* sum) {
  sum->failures.push_back("point " + std::to_string(index) + " (" + q.text() + " @ " + a.base + " " + a.overrides +
                          "): " + e.what());
  if (index < *first_failed) {
    *first_failed = index;
    sum->failure_code = exit_code_of(e);
  }
}

// The pending points on o.jobs workers (this thread is one), each taking
// the next untaken point; without keep_going a failure stops new starts.
void run_pending(const Sweep& s, const RunOptions& o, const Pending& pending, const std::string& work,
                 QuantCache& cache, ActivationStore& acts, HifErrorCache& hif_errors, ProgramCache& programs,
                 RunSummary* sum) {
  std::mutex mu;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  size_t first_failed = SIZE_MAX;  // under mu
  auto worker = [&] {
    for (;;) {
      const size_t at = next++;
      if (at >= pending.size() || stop) return;
      const auto& [index, key] = pending[at];
      const QuantConfig& q = s.quant_of(index);
      const ArchPoint& a = s.arch_of(index);
      {
        std::lock_guard<std::mutex> g(mu);
        if (o.on_start) o.on_start(index, q.text() + " @ " + a.base + (a.overrides.empty() ? "" : " " + a.overrides));
      }
      try {
        const json p = run_point(s, index, *cache.get(s, q), o.engine, acts, hif_errors, programs, work);
        write_json(point_path(o.out_dir, key), p);
        std::lock_guard<std::mutex> g(mu);
        record_success(p, sum);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> g(mu);
        record_failure(index, q, a, e, &first_failed, sum);
        if (!o.keep_going) stop = true;
      }
    }
  };
  const unsigned jobs = std::max(1u, std::min<unsigned>(o.jobs, unsigned(std::max<size_t>(pending.size(), 1))));
  std::vector<std::thread> threads;
  for (unsigned j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
}

}  // namespace

RunSummary run_sweep(const Sweep& s, const RunOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  RunSummary sum;
  fs::create_directories(fs::path(o.out_dir) / "points");
  QuantCache cache(o.cache_dir, o.lutc_exe);
  ActivationStore acts((fs::path(o.cache_dir) / "act").string());
  HifErrorCache hif_errors;
  ProgramCache programs(o.program_cache_bytes);

  Pending pending;
  const json manifest = shard_manifest(s, o, cache, &pending, &sum);
  write_json(fs::path(o.out_dir) / "manifest.json", manifest);
  if (programs.enabled()) group_by_program(s, &pending);

  if (o.on_begin) o.on_begin(pending.size(), sum.resumed);
  const std::string work = (fs::path(o.out_dir) / "work").string();
  run_pending(s, o, pending, work, cache, acts, hif_errors, programs, &sum);
  sum.quantized = cache.quantized();

  if (sum.failures.empty() && o.rtl_check) rtl_check(s, o, manifest, cache, acts, hif_errors, programs, &sum);
  sum.programs = programs.stats();
  std::error_code ec;
  fs::remove(work, ec);  // empty unless a point failed mid-way (kept for its logs)
  sum.complete = sum.failures.empty();
  if (sum.complete) finalize(o.out_dir, manifest, o.shards == 1, &sum);
  sum.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

RunSummary merge_runs(const std::vector<std::string>& dirs, const std::string& out_dir) {
  const auto t0 = std::chrono::steady_clock::now();
  if (dirs.empty()) throw Error(ExitCode::kUsage, "--merge needs at least one folder");
  RunSummary sum;
  json first;
  std::map<size_t, std::pair<std::string, std::string>> by_index;  // index -> (key, dir)
  for (const auto& d : dirs) {
    const json m = read_json(fs::path(d) / "manifest.json");
    if (m.value("format", "") != kManifestFormat)
      throw Error(ExitCode::kBadInput, "'" + d + "/manifest.json' is not an explore manifest");
    if (first.is_null()) first = m;
    if (m.at("sweep_hash") != first.at("sweep_hash"))
      throw Error(ExitCode::kBadInput, "'" + d + "' holds sweep " + m.at("sweep_hash").get<std::string>() + ", '" +
                                           dirs[0] + "' holds " + first.at("sweep_hash").get<std::string>());
    for (const auto& p : m.at("points")) {
      const std::string key = p.at("key");
      if (!fs::exists(point_path(d, key)))
        throw Error(ExitCode::kBadInput, "'" + d + "' has no result for point " +
                                             std::to_string(p.at("index").get<size_t>()) +
                                             " (the shard did not finish; re-run it, it resumes)");
      by_index[p.at("index")] = {key, d};
    }
  }
  const size_t total = first.at("points_total");
  for (size_t i = 0; i < total; ++i)
    if (!by_index.count(i))
      throw Error(ExitCode::kBadInput, "the folders given hold no result for point " + std::to_string(i) + " of " +
                                           std::to_string(total) + " (a shard is missing)");
  fs::create_directories(fs::path(out_dir) / "points");
  json manifest = first;
  manifest["shard"] = 0;
  manifest["shards"] = 1;
  json points = json::array();
  for (const auto& [index, kd] : by_index) {
    const fs::path src = point_path(kd.second, kd.first), dst = point_path(out_dir, kd.first);
    std::error_code ec;
    if (!fs::equivalent(src, dst, ec)) fs::copy_file(src, dst, fs::copy_options::overwrite_existing);
    points.push_back({{"index", index}, {"key", kd.first}});
  }
  manifest["points"] = points;
  write_json(fs::path(out_dir) / "manifest.json", manifest);
  sum.owned = total;
  sum.complete = true;
  finalize(out_dir, manifest, true, &sum);
  sum.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

}  // namespace lutc::explore

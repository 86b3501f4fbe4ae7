// lutc explore: quantization configs x arch configs -> results.csv/json, the
// Pareto front, plots and report.html (docs/explore.md).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <thread>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/cli/progress.h"
#include "lutc/explore/explore_run.h"
#include "lutc/explore/subprocess.h"
#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"

namespace lutc::cli {
namespace {

const char* kUsage =
    "usage: lutc explore SWEEP.ini --out DIR [--jobs N] [--shard I/N] [--cache DIR] [--rtl-check N]\n"
    "                    [--program-cache MIB]\n"
    "       lutc explore --merge DIR... --out DIR\n\n"
    "Runs every point of the sweep (docs/explore.md, examples/sweeps/): quantizes the weights once per\n"
    "quantization config (cached under --cache), compiles each layer for the point's arch, runs each\n"
    "program on the SystemC model (`lutc sim`, one process per point: SystemC elaborates once per\n"
    "process) and sums the model's decode step.\n"
    "Points whose archs differ only in keys the compiler does not read (clock, DRAM, energy, LUT ports,\n"
    "the accumulator width: docs/arch.md) share one compile per layer, re-targeted to each arch (the same\n"
    "bytes a fresh compile writes); --program-cache bounds that cache, 0 turns it off.\n"
    "Writes DIR/results.csv and results.json (one row per point, stable columns), the Pareto front\n"
    "(quality_db, energy per token, tokens/s), plots/ (SVG + PNG via gnuplot) and report.html.\n\n"
    "A re-run skips the points already in DIR/points/. --shard I/N runs points i with i % N == I;\n"
    "--merge gathers shard folders into the result an unsharded run writes (byte-identical CSV).";

bool has_command(const std::string& name) {
  for (const auto& c : commands())
    if (c.name == name) return true;
  return false;
}

void print_summary(const explore::RunSummary& r, const std::string& out) {
  std::printf("explore: %zu points in this run, %zu resumed, %zu ran, %u quantizations (cache misses), %.1f s wall\n",
              r.owned, r.resumed, r.ran, r.quantized, r.wall_s);
  if (r.ran > 0)
    std::printf("explore: %.1f points/min; engine processes %.1f s, compile %.1f s (summed over workers)\n",
                60.0 * double(r.ran) / std::max(r.wall_s, 1e-9), r.engine_s, r.compile_s);
  if (r.programs.compiled + r.programs.reused > 0)
    std::printf(
        "explore: programs: %llu layers compiled, %llu re-targeted from the program cache "
        "(peak %.0f MiB, %llu evicted)\n",
        (unsigned long long)r.programs.compiled, (unsigned long long)r.programs.reused,
        double(r.programs.peak_bytes) / (1 << 20), (unsigned long long)r.programs.evicted);
  for (const auto& f : r.failures) std::fprintf(stderr, "explore: FAILED %s\n", f.c_str());
  for (const auto& n : r.notes) std::printf("explore: note: %s\n", n.c_str());
  if (!r.complete) {
    std::fprintf(stderr,
                 "explore: %zu points failed; results not written. Re-run the same command to retry them "
                 "(finished points are kept).\n",
                 r.failures.size());
    return;
  }
  std::printf("explore: wrote %s/results.csv and %s/results.json\n", out.c_str(), out.c_str());
  if (!r.report.html.empty()) {
    if (!r.report.note.empty()) std::printf("explore: note: %s\n", r.report.note.c_str());
    // Plots and files counted from what was written, not from what was tried.
    std::printf("explore: report %s (%zu plots: %zu image files, SVG and PNG, in %s/plots)\n", r.report.html.c_str(),
                r.report.plots.size(), r.report.images.size(), out.c_str());
    for (const auto& f : r.report.failures) std::fprintf(stderr, "explore: plot FAILED %s\n", f.c_str());
  }
}

// The files an explore run writes at the top of --out: none may be an input
// (the sweep file, the weights, a shard folder's manifest).
void refuse_inputs_overwritten(const std::string& out, const std::vector<std::string>& inputs) {
  for (const char* name : {"manifest.json", "results.csv", "results.json", "report.html"})
    refuse_output_over_input(out + "/" + name, "--out", inputs);
}

// A failed point fails the run with its own class (a child's bad input or I/O
// error is passed on; anything else is internal); a plot gnuplot could not
// write is an I/O failure (the results and report.html are written, the run
// still fails).
int exit_code(const explore::RunSummary& r) {
  if (!r.complete) return int(r.failure_code == ExitCode::kOk ? ExitCode::kInternal : r.failure_code);
  if (!r.report.failures.empty()) return int(ExitCode::kIo);
  return 0;
}

struct ExploreArgs {
  std::string sweep_path, out, cache, shard = "0/1", engine = "sim", engine_exe;
  std::vector<std::string> merge;
  unsigned jobs = 1, rtl_check = 0;
  int64_t program_cache_mib = int64_t(explore::kDefaultProgramCacheMiB);  // signed: "-5" is an error, not 2^64-5
  bool quiet = false, per_layer = false;
};

// False when --help was asked for (and printed).
bool parse_args(int argc, char** argv, ExploreArgs* a) {
  po::options_description opts("options");
  opts.add_options()("sweep", po::value(&a->sweep_path), "sweep file (.ini)")(
      "out,o", po::value(&a->out)->required(), "output folder (created; re-running resumes)")(
      "jobs,j", po::value(&a->jobs)->default_value(1), "points run in parallel (0 = one per core)")(
      "shard", po::value(&a->shard)->default_value("0/1"), "run slice I of N: points i with i % N == I")(
      "merge", po::value(&a->merge)->multitoken(), "merge these shard output folders into --out")(
      "cache", po::value(&a->cache), "quantization cache folder (default DIR/cache); shards may share one")(
      "rtl-check", po::value(&a->rtl_check)->default_value(0),
      "re-run N sampled ok points on `lutc rtl`, record the cycle difference")(
      "program-cache", po::value(&a->program_cache_mib)->default_value(int64_t(explore::kDefaultProgramCacheMiB)),
      "MiB of compiled programs kept for points that share a compile (least recently used out; 0 = off: "
      "every point compiles its own)")("engine", po::value(&a->engine)->default_value("sim"),
                                       "sim|rtl: engine subcommand each layer runs on")(
      "engine-exe", po::value(&a->engine_exe), "program that provides the engine subcommand (default: this lutc)")(
      "engine-per-layer", po::bool_switch(&a->per_layer),
      "one functional engine process per layer (X.lutp --x x.npy) "
      "instead of one timing-only process per point")("quiet,q", po::bool_switch(&a->quiet), "no progress bar");
  po::positional_options_description pos;
  pos.add("sweep", 1);
  po::variables_map vm;
  return parse_command_line(argc, argv, kUsage, opts, pos, vm);
}

int run_merge(const ExploreArgs& a) {
  if (!a.sweep_path.empty()) throw Error(ExitCode::kUsage, "--merge takes shard folders, not a sweep file");
  const explore::RunSummary r = explore::merge_runs(a.merge, a.out);
  std::printf("explore: merged %zu folders, %zu points\n", a.merge.size(), r.owned);
  print_summary(r, a.out);
  return exit_code(r);
}

// Every point runs on the engine command: refuse a run it cannot start
// before any point is quantized.
void check_engine(const ExploreArgs& a) {
  if (a.sweep_path.empty()) throw Error(ExitCode::kUsage, "a sweep file is required (or --merge DIR...)");
  if (a.engine != "sim" && a.engine != "rtl") throw Error(ExitCode::kUsage, "--engine must be sim or rtl");
  if (a.engine_exe.empty() && !has_command(a.engine))
    throw Error(ExitCode::kUsage, "this lutc has no `" + a.engine + "` command (" +
                                      (a.engine == "sim" ? "the SystemC model, sim/" : "the RTL harness, rtl/") +
                                      "), which every explore point runs on; build it, or name a program "
                                      "providing it with --engine-exe");
  if (a.rtl_check && a.engine_exe.empty() && !has_command("rtl"))
    throw Error(ExitCode::kUsage, "--rtl-check needs `lutc rtl` (rtl/), which this lutc does not have");
}

explore::RunOptions run_options(const ExploreArgs& a) {
  explore::RunOptions o;
  o.out_dir = a.out;
  o.cache_dir = a.cache.empty() ? a.out + "/cache" : a.cache;
  o.jobs = a.jobs ? a.jobs : std::max(1u, std::thread::hardware_concurrency());
  std::tie(o.shard, o.shards) = explore::parse_shard(a.shard);
  o.lutc_exe = explore::self_executable();
  o.engine.exe = a.engine_exe.empty() ? o.lutc_exe : a.engine_exe;
  o.engine.command = a.engine;
  o.engine.per_layer = a.per_layer || a.engine == "rtl";  // the RTL harness runs one program with activations
  o.rtl_check = a.rtl_check;
  if (a.program_cache_mib < 0 || a.program_cache_mib > (int64_t(1) << 40))
    throw Error(ExitCode::kUsage, "--program-cache " + std::to_string(a.program_cache_mib) +
                                      " MiB is out of range [0, 2^40] (0 turns the cache off)");
  o.program_cache_bytes = uint64_t(a.program_cache_mib) << 20;
  return o;
}

int run_sweep_file(const ExploreArgs& a) {
  check_engine(a);
  const explore::Sweep s = explore::load_sweep(a.sweep_path);
  refuse_inputs_overwritten(a.out, {a.sweep_path, s.weights});
  check_output_folder(a.cache, "--cache", {});
  explore::RunOptions o = run_options(a);
  std::printf("explore: sweep '%s': %zu quantization configs x %zu arch configs = %zu points; shard %u/%u; %u jobs\n",
              s.name.c_str(), s.quants.size(), s.archs.size(), s.points(), o.shard, o.shards, o.jobs);
  std::fflush(stdout);
  std::unique_ptr<Progress> progress;
  o.on_begin = [&](size_t pending, size_t resumed) {
    if (resumed) std::printf("explore: %zu points already done in %s (resuming)\n", resumed, a.out.c_str());
    std::fflush(stdout);
    progress = std::make_unique<Progress>("explore", pending, !a.quiet && pending > 0);
  };
  o.on_start = [&](size_t index, const std::string& label) {
    progress->start_item("p" + std::to_string(index) + " " + label, 1);
  };
  const explore::RunSummary r = explore::run_sweep(s, o);
  if (progress) progress->finish();
  print_summary(r, a.out);
  return exit_code(r);
}

int run_explore(int argc, char** argv) {
  ExploreArgs a;
  if (!parse_args(argc, argv, &a)) return 0;
  check_output_folder(a.out, "--out", {});
  return a.merge.empty() ? run_sweep_file(a) : run_merge(a);
}

const RegisterCommand kRegister({"explore",
                                 "sweep quantization x arch configs: results.csv, Pareto front, plots, report",
                                 run_explore});

}  // namespace
}  // namespace lutc::cli

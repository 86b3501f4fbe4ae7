// lutc hprocess: fit a memory budget at the highest cosine floors that still
// generate sensibly (docs/hprocess.md).
#include <cstdio>
#include <iostream>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/cli/projections.h"
#include "lutc/model/error.h"
#include "lutc/model/hprocess.h"

namespace lutc::cli {
namespace {

const char* kUsage =
    "usage: lutc hprocess MODEL (--budget-bytes B | --budget-frac F) [--floor-strict F --floor-lazy F]\n"
    "                     [--kl-max X | --top1-min Y] [--json] [--plot P.svg] [-o CHOSEN.xfp]\n"
    "       lutc hprocess --make-moe-synth OUT.safetensors [--seed S]\n\n"
    "Starts at the operator's floors and, while the quantized model plus the measured peak working\n"
    "set of quantize-on-load (one tensor at a time) exceeds the budget, relaxes the lazy floor\n"
    "(routed experts), then the strict floor, down the documented ladder, bisecting the last step.\n"
    "When the start already fits but is garbage, it raises the strict floor, then the lazy one, up\n"
    "the ladder while the model still fits (bisecting at the first miss), so the budget buys quality.\n"
    "Every candidate runs the generation bench (lutc lm-eval's metrics); a candidate whose\n"
    "KL(p_fp32 || p_q) exceeds --kl-max (default 0.1 nats), or whose top-1 agreement is below\n"
    "--top1-min, is garbage. The chosen point is the fitting, sensible candidate with the most\n"
    "bytes. Per-tensor quantizations are cached by (tensor, floor) across candidates.\n"
    "--budget-frac F gives the budget as a fraction of the model's fp16 size.\n"
    "Memory of the run itself (--stream auto|on|off, --max-memory-gb G, as lm-eval): in memory it\n"
    "holds three fp32 copies of the model (source, reference, candidate); streaming holds one layer\n"
    "at a time, candidates decoded from the cached quantized layers per fetch. The cache of\n"
    "quantized layers (one per tensor and floor tried) stays in memory in both modes.\n"
    "Candidates multiply their quantized layers as lm-eval's --projections says (default kernels:\n"
    "packed, CPU kernels' f32 path; golden: decoded to fp32, Eigen); the reference is always fp32.\n"
    "Exit code 5 when no sensible point fits.";

void print_point(std::FILE* out, size_t i, const HprocessPoint& p, int chosen) {
  std::fprintf(out,
               "%3zu %-13s %9.6g %9.6g %10.1f %10.1f %9.1f %7.3f %9.5f %6.3f %8.3f %6.1f %-4s %-4s %3u/%-3u %6.2f%s\n",
               i, p.step.c_str(), p.floor_strict, p.floor_lazy, p.need_bytes / 1024.0, p.model_bytes / 1024.0,
               p.peak_transient / 1024.0, p.bpw, p.lm.kl, p.lm.top1, p.lm.ppl, p.lm.greedy_match, p.fits ? "yes" : "no",
               p.garbage ? "yes" : "no", p.quantized, p.cache_hits, p.seconds, int(i) == chosen ? "  <= chosen" : "");
}

void print_header(std::FILE* out) {
  std::fprintf(out, "%3s %-13s %9s %9s %10s %10s %9s %7s %9s %6s %8s %6s %-4s %-4s %7s %6s\n", "#", "step", "strict",
               "lazy", "need KiB", "model KiB", "peak KiB", "bpw", "KL", "top1", "ppl", "match", "fits", "garb",
               "new/hit", "s");
}

nlohmann::json point_json(const HprocessPoint& p) {
  return {{"step", p.step},
          {"floor_strict", p.floor_strict},
          {"floor_lazy", p.floor_lazy},
          {"model_bytes", p.model_bytes},
          {"peak_transient_bytes", p.peak_transient},
          {"need_bytes", p.need_bytes},
          {"bpw", p.bpw},
          {"fits", p.fits},
          {"garbage", p.garbage},
          {"lm", to_json(p.lm)},
          {"tensors_quantized", p.quantized},
          {"cache_hits", p.cache_hits},
          {"seconds", p.seconds}};
}

struct HprocessArgs {
  std::string model, plot, out, synth_out, mode;
  HprocessOptions o;
  double budget_frac = 0, kl_max = -1, top1_min = -1;
  uint64_t seed = 1;
  bool json = false;
  MemoryOptions mem;
  ProjectionOptions projections;
};

// Every flag checked (and the garbage test and mode set in `o`) before the
// model is read.
void check_args(HprocessArgs& a, const po::variables_map& vm) {
  HprocessOptions& o = a.o;
  if (a.model.empty()) throw Error(ExitCode::kUsage, "MODEL is required");
  if (vm.count("budget-bytes") == vm.count("budget-frac"))
    throw Error(ExitCode::kUsage, "give exactly one of --budget-bytes and --budget-frac");
  if (a.kl_max >= 0 && a.top1_min >= 0) throw Error(ExitCode::kUsage, "give --kl-max or --top1-min, not both");
  check_range("floor-strict", o.floor_strict, 0.0, 1.0);
  check_range("floor-lazy", o.floor_lazy, 0.0, 1.0);
  check_range("floor-min", o.floor_min, 0.0, 1.0);
  check_range("lazy-min", o.lazy_min, 0.0, 1.0);
  check_range("prompts", o.bench.prompts, 1, 4096);
  check_range("steps", o.bench.steps, 1, 1 << 20);
  check_range("threads", o.threads, 1, 256);
  if (a.mode != "xfp" && a.mode != "xfp.v2") throw Error(ExitCode::kUsage, "--mode must be xfp or xfp.v2");
  o.auto_mode = a.mode == "xfp";
  if (a.kl_max >= 0) o.garbage = {a.kl_max, 0};
  if (a.top1_min >= 0) {
    check_range("top1-min", a.top1_min, 0.0, 1.0);
    o.garbage = {0, a.top1_min};
  }
  if (vm.count("budget-frac")) check_range("budget-frac", a.budget_frac, 1e-6, 100.0);
  if (vm.count("budget-bytes") && o.budget_bytes == 0) throw Error(ExitCode::kUsage, "--budget-bytes must be positive");
}

void print_start(const HprocessArgs& a, const Hprocess& hp) {
  const HprocessOptions& o = a.o;
  std::printf("model %s: fp16 size %llu bytes, budget %llu bytes (%.1f%% of fp16)\n", a.model.c_str(),
              (unsigned long long)hp.fp16_bytes(), (unsigned long long)o.budget_bytes,
              100.0 * double(o.budget_bytes) / double(hp.fp16_bytes()));
  std::printf("%s\n", a.mem.line(hp.streaming(), hp.in_memory_bytes()).c_str());
  if (o.projections)
    std::printf("candidates' projections: %s on %u threads\n", o.projections->name().c_str(), o.projections->threads());
  else
    std::printf("candidates' projections: golden (decoded to fp32, Eigen)\n");
  if (o.loader_budget_bytes)
    std::printf("quantize-on-load working set checked separately against %llu bytes\n",
                (unsigned long long)o.loader_budget_bytes);
  std::printf("fp32 reference: %u prompts x %u tokens, self ppl %.4f, greedy-token prob %.4f\n", o.bench.prompts,
              o.bench.steps, hp.reference().self_ppl, hp.reference().self_top_prob);
  print_header(stdout);
}

nlohmann::json result_json(const HprocessArgs& a, const Hprocess& hp, const HprocessResult& r, bool plotted) {
  const HprocessOptions& o = a.o;
  nlohmann::json j;
  j["model"] = a.model;
  j["fp16_bytes"] = r.fp16_bytes;
  j["memory"] = a.mem.report(hp.streaming(), hp.in_memory_bytes());
  j["projections"] = {{"backend", o.projections ? o.projections->name() : kGoldenProjections},
                      {"threads", o.projections ? o.projections->threads() : 1u}};
  j["budget_bytes"] = o.budget_bytes;
  j["loader_budget_bytes"] = o.loader_budget_bytes;
  j["floor_strict"] = o.floor_strict;
  j["floor_lazy"] = o.floor_lazy;
  j["kl_max"] = o.garbage.kl_max;
  j["top1_min"] = o.garbage.top1_min;
  j["trajectory"] = nlohmann::json::array();
  for (const auto& p : r.trajectory) j["trajectory"].push_back(point_json(p));
  j["chosen"] = r.chosen;
  j["verdict"] = r.verdict;
  j["roles"] = nlohmann::json::array();
  for (const auto& rs : r.chosen_roles)
    j["roles"].push_back({{"role", rs.role}, {"floor", rs.floor}, {"tensors", rs.tensors}, {"bpw", rs.bpw}});
  j["seconds"] = r.seconds;
  j["plot"] = plotted ? a.plot : "";
  return j;
}

void print_result(const HprocessArgs& a, const HprocessResult& r, bool plotted) {
  const HprocessOptions& o = a.o;
  std::printf("\n");
  print_header(stdout);
  for (size_t i = 0; i < r.trajectory.size(); ++i) print_point(stdout, i, r.trajectory[i], r.chosen);
  std::printf("verdict: %s\n", r.verdict.c_str());
  if (r.chosen >= 0) {
    const HprocessPoint& c = r.trajectory[size_t(r.chosen)];
    const uint64_t counted = o.loader_budget_bytes ? c.model_bytes : c.need_bytes;
    std::printf(
        "chosen: strict %.6g, lazy %.6g: %llu bytes %s of %llu (%.1f%% of fp16), working set %llu, %.3f bpw, "
        "KL %.5f, top-1 %.4f\n",
        c.floor_strict, c.floor_lazy, (unsigned long long)counted, o.loader_budget_bytes ? "model" : "needed",
        (unsigned long long)o.budget_bytes, 100.0 * double(counted) / double(r.fp16_bytes),
        (unsigned long long)c.peak_transient, c.bpw, c.lm.kl, c.lm.top1);
    for (const auto& rs : r.chosen_roles)
      std::printf("  role %-14s floor %.6g  %3u tensors  %.3f bpw\n", rs.role.c_str(), rs.floor, rs.tensors, rs.bpw);
  }
  const std::string plot_note = a.plot.empty() ? "" : plotted ? ", plot " + a.plot : ", no gnuplot: plot skipped";
  std::printf("wall time %.2f s%s\n", r.seconds, plot_note.c_str());
}

// The flags into `a`; false after --help.
bool parse_args(int argc, char** argv, HprocessArgs& a, po::variables_map& vm) {
  HprocessOptions& o = a.o;
  po::options_description opts("options");
  opts.add_options()("model", po::value(&a.model),
                     "model weights (Hugging Face folder, .safetensors, index.json or llama2.c .bin)")(
      "budget-bytes", po::value(&o.budget_bytes), "memory budget in bytes (model + quantize-on-load working set)")(
      "budget-frac", po::value(&a.budget_frac), "memory budget as a fraction of the fp16 model size")(
      "loader-budget-bytes", po::value(&o.loader_budget_bytes),
      "check the quantize-on-load working set against this separate budget; the model bytes alone against "
      "--budget-bytes")("floor-strict", po::value(&o.floor_strict)->default_value(0.999),
                        "starting per-row cosine floor: attention, shared experts, dense")(
      "floor-lazy", po::value(&o.floor_lazy)->default_value(0.995), "starting per-row cosine floor: routed experts")(
      "lazy-min", po::value(&o.lazy_min)->default_value(0.9),
      "the lazy floor relaxes alone down to here before strict moves")(
      "floor-min", po::value(&o.floor_min)->default_value(0.5), "no floor goes below this")(
      "bisect", po::value(&o.bisect_steps)->default_value(3), "bisection steps at the fitting edge")(
      "kl-max", po::value(&a.kl_max), "garbage when mean KL(p_fp32 || p_q) exceeds this (nats; default 0.1)")(
      "top1-min", po::value(&a.top1_min), "garbage when top-1 agreement is below this (replaces --kl-max)")(
      "prompts", po::value(&o.bench.prompts)->default_value(8), "bench prompts")(
      "steps", po::value(&o.bench.steps)->default_value(64), "bench tokens per prompt")(
      "mode", po::value(&a.mode)->default_value("xfp"), "xfp|xfp.v2: xfp picks v2 or v2a per tensor, xfp.v2 only v2")(
      "threads", po::value(&o.threads)->default_value(1), "quantizer threads")("json", po::bool_switch(&a.json),
                                                                               "print JSON instead of a table")(
      "plot", po::value(&a.plot), "write a gnuplot SVG of bytes and KL against the floors")(
      "output,o", po::value(&a.out), "write the chosen point's layers as .xfp")(
      "make-moe-synth", po::value(&a.synth_out), "write the synthetic Qwen-MoE-shaped model here and exit")(
      "seed", po::value(&a.seed)->default_value(1), "seed for --make-moe-synth");
  a.mem.add_to(opts);
  a.projections.add_to(opts);
  po::positional_options_description pos;
  pos.add("model", 1);
  return parse_command_line(argc, argv, kUsage, opts, pos, vm);
}

// --make-moe-synth: the synthetic model alone.
int write_moe_model(const HprocessArgs& a) {
  MoeSynthSpec s;
  s.seed = a.seed;
  write_moe_synth(a.synth_out, s);
  std::printf("wrote %s\n", a.synth_out.c_str());
  return 0;
}

// The search itself, its progress lines, the chosen .xfp, the plot and the result.
int search(HprocessArgs& a) {
  HprocessOptions& o = a.o;
  o.stream = a.mem.choice();
  o.max_memory_bytes = a.mem.budget_bytes();
  o.projections = a.projections.make();
  Hprocess hp(a.model, o);
  if (a.budget_frac > 0) {
    o.budget_bytes = uint64_t(a.budget_frac * double(hp.fp16_bytes()));
    hp.set_budget(o.budget_bytes);
  }
  if (!a.json) print_start(a, hp);
  size_t shown = 0;
  const HprocessResult r = hp.run([&](const HprocessPoint& p) {
    if (!a.json) print_point(stdout, shown++, p, -1);
    std::fflush(stdout);
  });
  if (!a.out.empty() && r.chosen >= 0) write_xfp(a.out, r.chosen_file);
  const bool plotted = !a.plot.empty() && plot_trajectory_svg(r, o.budget_bytes, a.plot);
  if (a.json)
    std::cout << result_json(a, hp, r, plotted).dump(2) << "\n";
  else
    print_result(a, r, plotted);
  return r.chosen >= 0 ? 0 : int(ExitCode::kQuality);
}

int run_hprocess(int argc, char** argv) {
  HprocessArgs a;
  po::variables_map vm;
  if (!parse_args(argc, argv, a, vm)) return 0;
  check_output_file(a.synth_out, "--make-moe-synth", {});
  check_output_file(a.plot, "--plot", {a.model});
  check_output_file(a.out, "-o", {a.model});
  if (!a.synth_out.empty()) return write_moe_model(a);
  check_args(a, vm);
  return search(a);
}

const RegisterCommand kRegister({"hprocess", "fit a memory budget at the highest floors that still generate sensibly",
                                 run_hprocess});

}  // namespace
}  // namespace lutc::cli

// lutc sim: runs .lutp programs on the SystemC model of the engine.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/compiler/issue_log.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/compiler/program_folder.h"
#include "lutc/model/error.h"
#include "lutc/model/npy.h"
#include "lutc/sim/report.h"
#include "lutc/sim/simulate.h"
#include "vectors_io.h"

namespace lutc::cli {
namespace {

namespace fs = std::filesystem;

const char kUsage[] =
    "usage: lutc sim X.lutp [Y.lutp | DIR ...] [--x x.npy [-o y.npy]] [--report R.json] [--trace T.json]\n"
    "                [--issue-log I.csv] [--json]\n\n"
    "Runs programs on the SystemC cycle-approximate model of the LUT-decode engine (docs/sim.md) and\n"
    "prints cycles, the bottleneck unit, DRAM bandwidth use and energy per layer.\n\n"
    "  One program with --x: a functional run; y (-o) is bit-identical to `lutc gemv` and `lutc run`.\n"
    "  Without --x: a timing-only run (the same cycles and actions; no arithmetic), --batch vectors.\n"
    "  Several programs or a directory of .lutp files: one decode step, layer after layer, with a\n"
    "  per-layer table and the summed report (a \"layers\" array holds each layer's report). A\n"
    "  directory's programs run in the .xfp's layer order (its programs.json, from lutc compile), which\n"
    "  also names the arch; --arch names it too.\n\n"
    "  --report writes the stats schema (docs/stats.md), the keys the RTL harness emits too.\n"
    "  --trace writes Chrome/Perfetto trace-event JSON: a track per unit, a slice per tile phase\n"
    "  (open it in ui.perfetto.dev or chrome://tracing).\n"
    "  --issue-log writes the cycle each instruction was accepted in (layer,pc,op,cycle), the same\n"
    "  CSV `lutc rtl --issue-log` writes: diff the two to find where the model and the RTL part.\n"
    "  DRAM requests: --dram-burst bytes each, --dram-outstanding in flight (not in the arch .ini).\n"
    "  --json prints the --report document on stdout, with \"files_written\"; the table goes to stderr.";

// The programs to run, in order. A directory's programs run in the order
// `lutc compile` wrote them (its programs.json: the .xfp's layer order);
// without a manifest, by name.
std::vector<std::string> program_paths(const std::vector<std::string>& inputs) {
  std::vector<std::string> out;
  for (const std::string& in : inputs) {
    if (!fs::is_directory(in)) {
      out.push_back(in);
      continue;
    }
    // Checked against the folder's programs.json, so two compiles' programs are never summed.
    const std::vector<std::string> found = program_folder_files(in);
    if (found.empty()) throw Error(ExitCode::kBadInput, "directory '" + in + "' holds no .lutp files");
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

// The arch's name for the report: --arch's file, else the compile manifest
// beside the first program (when it lists it), else the name the program
// was read with (its hash: a .lutp stores the arch's keys, not its name).
std::string arch_name(const std::string& arch_path, const std::string& first_program, const ArchConfig& embedded) {
  if (!arch_path.empty()) return fs::path(arch_path).stem().string();
  const fs::path p(first_program);
  const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  ProgramManifest m;
  if (read_program_manifest(dir, &m) &&
      std::find(m.files.begin(), m.files.end(), p.filename().string()) != m.files.end())
    return m.arch;
  return embedded.name;  // "arch <hash>", as the program was read (lutp_file.cpp)
}

// The command line, as given.
struct SimArgs {
  std::vector<std::string> inputs;
  std::string xpath, out, report, trace, issue_log, arch_path;
  uint32_t batch = 1, burst = 0, outstanding = 0;
  bool json = false;
};

// Fills a from the command line; false when it only asked for the usage.
bool parse_sim_args(int argc, char** argv, SimArgs& a) {
  sim::SimOptions defaults;
  po::options_description opts("options");
  opts.add_options()("input", po::value(&a.inputs)->required(), ".lutp files or directories")(
      "x", po::value(&a.xpath),
      "activations .npy (cols or batch x cols, float32, float64 or bf16 as uint16): functional run")(
      "output,o", po::value(&a.out), "output y .npy (float32, rows or batch x rows); needs --x")(
      "report", po::value(&a.report), "stats JSON (docs/stats.md)")("trace", po::value(&a.trace),
                                                                    "Chrome/Perfetto trace-event JSON")(
      "issue-log", po::value(&a.issue_log), "CSV of each instruction's accept cycle (layer,pc,op,cycle)")(
      "batch", po::value(&a.batch)->default_value(1), "activation vectors for a timing-only run")(
      "arch", po::value(&a.arch_path), "refuse programs not compiled for this arch .ini")(
      "dram-burst", po::value(&a.burst)->default_value(defaults.dram_burst_bytes), "bytes per DRAM request")(
      "dram-outstanding", po::value(&a.outstanding)->default_value(defaults.dram_outstanding),
      "DRAM requests in flight")("json", po::bool_switch(&a.json), JsonStdout::kHelp);
  po::positional_options_description pos;
  pos.add("input", -1);
  po::variables_map vm;
  return parse_command_line(argc, argv, kUsage, opts, pos, vm);
}

// Refuses bad values and outputs that would overwrite an input before
// anything runs, so a long simulation never ends in a usage error.
void check_sim_args(const SimArgs& a) {
  check_range("batch", a.batch, 1, 1 << 20);
  check_range("dram-burst", a.burst, 1, 1 << 24);
  check_range("dram-outstanding", a.outstanding, 1, 1 << 16);
  if (!a.out.empty() && a.xpath.empty())
    throw Error(ExitCode::kUsage, "-o needs --x (a timing-only run computes no y)");
  std::vector<std::string> ins = a.inputs;
  ins.push_back(a.xpath);
  ins.push_back(a.arch_path);
  check_output_file(a.out, "-o", ins);
  check_output_file(a.report, "--report", ins);
  check_output_file(a.trace, "--trace", ins);
  check_output_file(a.issue_log, "--issue-log", ins);
}

// One layer per program, the first already read (its arch names the run);
// x, when given, feeds the first layer only.
sim::SimJob make_job(const SimArgs& a, const std::vector<std::string>& paths, std::shared_ptr<const Program> first,
                     const ArchConfig& arch, const NpyArray& x, uint32_t batch) {
  sim::SimJob job;
  job.arch = arch;
  job.options.dram_burst_bytes = a.burst;
  job.options.dram_outstanding = a.outstanding;
  job.options.keep_trace = !a.trace.empty();
  job.options.keep_issue_log = !a.issue_log.empty();
  job.batch = batch;
  for (size_t i = 0; i < paths.size(); ++i) {
    sim::SimLayer l;
    if (i == 0) {
      l.load = [first] { return first; };
    } else {
      const std::string& path = paths[i];
      // Loaded when its turn comes; the same arch check as the first.
      l.load = [path, arch] { return std::make_shared<const Program>(read_lutp(path, arch)); };
    }
    if (i == 0 && !a.xpath.empty()) l.x = x.data;
    job.layers.push_back(std::move(l));
  }
  return job;
}

// Writes y and the files asked for; returns their paths for --json.
nlohmann::json write_sim_outputs(const SimArgs& a, const sim::SimResult& result, const Program& first,
                                 const NpyArray& x, const ArchConfig& arch) {
  if (!a.out.empty()) {
    const std::vector<float>& y = result.layers[0].y;
    if (x.shape.size() == 1)
      write_npy(a.out, {first.meta.rows}, y.data());
    else
      write_npy(a.out, {x.rows(), first.meta.rows}, y.data());
  }
  nlohmann::json files = nlohmann::json::array();
  if (!a.out.empty()) files.push_back(a.out);
  if (!a.report.empty()) write_json_file(a.report, sim::report_json(result)), files.push_back(a.report);
  if (!a.trace.empty()) sim::write_trace(a.trace, result, arch.clock_mhz), files.push_back(a.trace);
  if (!a.issue_log.empty()) write_issue_log(a.issue_log, result.issues), files.push_back(a.issue_log);
  return files;
}

int run_sim(int argc, char** argv) {
  SimArgs a;
  if (!parse_sim_args(argc, argv, a)) return 0;
  check_sim_args(a);

  JsonStdout json_out(a.json);  // before SystemC starts: its banner goes to stderr too
  const std::vector<std::string> paths = program_paths(a.inputs);
  if (!a.xpath.empty() && paths.size() != 1)
    throw Error(ExitCode::kUsage, "--x runs one program; give one .lutp (a decode step is timing-only)");
  auto first = std::make_shared<const Program>(a.arch_path.empty() ? read_lutp(paths[0])
                                                                   : read_lutp(paths[0], load_arch(a.arch_path)));
  ArchConfig arch = first->arch;
  arch.name = arch_name(a.arch_path, paths[0], first->arch);

  NpyArray x;
  uint32_t batch = a.batch;
  if (!a.xpath.empty()) {
    x = read_activations(a.xpath, first->meta.cols, first->meta.layer);
    batch = uint32_t(x.rows());
  }
  sim::SimJob job = make_job(a, paths, first, arch, x, batch);

  sim::SimResult result;
  sim::run_in_systemc([&] {
    result = sim::simulate(std::move(job));
    return 0;
  });

  const nlohmann::json files = write_sim_outputs(a, result, *first, x, arch);
  std::fputs(sim::layer_table(result).c_str(), stdout);
  if (json_out.on()) {
    nlohmann::json j = sim::report_json(result);
    j["files_written"] = files;
    json_out.emit(j);
  }
  return 0;
}

const RegisterCommand kRegister({"sim", "run .lutp programs on the SystemC cycle model: cycles, energy, trace",
                                 run_sim});

}  // namespace
}  // namespace lutc::cli

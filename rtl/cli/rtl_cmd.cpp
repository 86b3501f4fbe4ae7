// lutc rtl: runs a .lutp on the Verilated RTL engine.
#include <cstdio>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/error.h"
#include "lutc/rtl/rtl_engine.h"
#include "vectors_io.h"

namespace lutc::cli {
namespace {

int run_rtl_cmd(int argc, char** argv) {
  std::string in, xpath, out, report, wave, issue_log, arch_path;
  bool json = false;
  po::options_description opts("options");
  opts.add_options()("input", po::value(&in)->required(), ".lutp file")(
      "x", po::value(&xpath)->required(), "activations .npy: cols or batch x cols, float32, float64 or bf16 as uint16")(
      "output,o", po::value(&out), "output .npy (float32, rows or batch x rows)")("report", po::value(&report),
                                                                                  "engine stats JSON (docs/stats.md)")(
      "wave", po::value(&wave), "FST waveform of the first vector's run (slow; only when asked)")(
      "issue-log", po::value(&issue_log),
      "CSV of the first vector's accept cycle per instruction (layer,pc,op,cycle), as `lutc sim --issue-log`")(
      "arch", po::value(&arch_path), "refuse the program unless it was compiled for this arch")(
      "json", po::bool_switch(&json), JsonStdout::kHelp);
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv,
                          "usage: lutc rtl X.lutp --x x.npy [-o y.npy] [--report R.json] [--wave W.fst]\n"
                          "                [--issue-log I.csv] [--json]\n\n"
                          "Runs the program on the verilated RTL engine (docs/rtl.md); y is bit-identical to\n"
                          "`lutc run` and `lutc gemv`. The engine was verilated for one structure (lanes <= 8,\n"
                          "4 LUT banks, 1 port, ...); programs for other archs are refused with the reason.\n"
                          "--json prints the --report stats (docs/stats.md) with \"layer\" and \"files_written\"\n"
                          "on stdout; the summary line goes to stderr.",
                          opts, pos, vm))
    return 0;
  check_output_file(out, "-o", {in, xpath, arch_path});
  check_output_file(report, "--report", {in, xpath, arch_path});
  check_output_file(wave, "--wave", {in, xpath, arch_path});
  check_output_file(issue_log, "--issue-log", {in, xpath, arch_path});
  JsonStdout json_out(json);
  const Program p = arch_path.empty() ? read_lutp(in) : read_lutp(in, load_arch(arch_path));
  const NpyArray x = read_activations(xpath, p.meta.cols, p.meta.layer);
  std::vector<float> y(size_t(x.rows()) * p.meta.rows);
  rtl::RtlOptions opt;
  opt.wave_path = wave;
  opt.keep_issue_log = !issue_log.empty();
  const rtl::RtlResult r = rtl::run_rtl(p, x.data.data(), uint32_t(x.rows()), y.data(), opt);
  nlohmann::json files = nlohmann::json::array();
  if (!out.empty()) write_outputs(out, x, p.meta.rows, y), files.push_back(out);
  if (!report.empty()) write_json_file(report, to_json(r.stats)), files.push_back(report);
  if (!issue_log.empty()) write_issue_log(issue_log, r.issues), files.push_back(issue_log);
  if (!wave.empty()) files.push_back(wave);
  std::printf("%s: %llu cycles, %llu instructions, %llu LUT reads, %llu bank-conflict cycles, %.1f pJ%s%s\n",
              p.meta.layer.c_str(), (unsigned long long)r.stats.cycles,
              (unsigned long long)r.stats.actions.instructions, (unsigned long long)r.stats.actions.lut_reads,
              (unsigned long long)r.stats.actions.bank_conflict_cycles, r.stats.energy.total_pj,
              out.empty() ? "" : " -> ", out.c_str());
  if (json_out.on()) {
    nlohmann::json j = to_json(r.stats);
    j["layer"] = p.meta.layer;
    j["files_written"] = files;
    json_out.emit(j);
  }
  return 0;
}

const RegisterCommand kRegister({"rtl", "run a .lutp on the verilated RTL engine (cycles, bit-exact y)", run_rtl_cmd});

}  // namespace
}  // namespace lutc::cli

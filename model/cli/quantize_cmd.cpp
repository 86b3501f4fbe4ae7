// lutc quantize: weights in, .xfp out, with a per-layer quality report and the
// fate of every input tensor. The run itself is the library's
// QuantizePipeline (shared with the Python package): layers are quantized on
// --threads threads and appended to the .xfp in input order as each is done,
// so memory stays at a few tensors and the bytes do not depend on the thread
// count; quantize_to_xfp.h writes them and builds the report document. This
// file holds the flags, the tensor selection, progress and the printed report.
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/cli/progress.h"
#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"
#include "lutc/model/layer_report.h"
#include "lutc/model/matrix_source.h"
#include "lutc/model/quantize_pipeline.h"
#include "lutc/model/quantize_to_xfp.h"
#include "lutc/model/tensor_fates.h"
#include "lutc/model/xfp_file.h"

namespace lutc::cli {
namespace {

const char* kUsage =
    "usage: lutc quantize IN -o OUT.xfp [options] [--report R.json] [--json]\n\n"
    "IN is a Hugging Face model folder, its model.safetensors.index.json, a .safetensors file\n"
    "(F32/F16/BF16/F64), a GGUF file with float tensors, a llama2.c checkpoint, or a built-in\n"
    "synthetic input: synth:default | synth:NxK[,NxK...][@SEED] (docs/inputs.md).\n\n"
    "Every input tensor gets a fate, printed and written to --report: quantized (2-D float\n"
    "matrices; 3-D stacked expert tensors are split per expert as NAME.E), kept in source\n"
    "precision inside the .xfp (norms, biases, embedding tables unless --quantize-embeddings,\n"
    "and whatever matches --keep), alias (a tied lm_head stored once), refused (integer, fp8 or\n"
    "quantized tensors, with the reason) or excluded (by --tensors). The per-layer table shows\n"
    "role, shape, scheme, bits, outlier %, effective bpw (every stored bit), SQNR, cos min/mean.\n\n"
    "XFP picks bits, outlier budget and mode per layer so that every live row's cosine\n"
    "similarity meets its floor: --floor-strict for attention, shared experts and other\n"
    "dense roles, --floor-lazy for routed MoE experts (docs/roles.md, docs/xfp.md).\n\n"
    "SOP block formats (docs/sop.md): --scheme sop --sop-format F, e.g. e2m3.ue4m4.b16 (6.5 bpw),\n"
    "e2m1.ue4m3.b16, pair(nf4,dd4).ue4m3.b16, pair(auto).sue4m3.b16+o0.5. With --budget-bpw X each\n"
    "layer gets one of the candidate formats (the documented ladder, or a comma-separated\n"
    "--sop-format list) so that the model fits X bpw with the least total ACos error.\n"
    "--act-stats S.safetensors gives E[x^2] per input column per layer name for ACos;\n"
    "without it SOP selects by plain cosine.\n\n"
    "--json prints the --report document on stdout (plus \"files_written\"); the table goes to stderr.\n\n"
    "schemes: xfp (auto V2/V2a), xfp.v2, xfp.v2a, sop, int4.g128, nf4.b64, fp8.e4m3";

struct Args {
  std::string in, out, report, tensors, keep;
  QuantizeSettings q;
  bool quiet = false, fail_on_floor = false, quantize_embeddings = false, json = false;
};

std::regex compile_regex(const std::string& flag, const std::string& re) {
  try {
    return std::regex(re);
  } catch (const std::regex_error& e) {
    throw Error(ExitCode::kUsage, "--" + flag + " '" + re + "' is not a valid regex: " + e.what());
  }
}

void print_fates(const std::vector<TensorPlan>& plan) {
  size_t excluded = 0;
  bool header = false;
  for (const auto& p : plan) {
    if (p.fate == TensorFate::kQuantize) continue;
    if (p.fate == TensorFate::kExcluded) {
      ++excluded;
      continue;
    }
    if (!header) std::printf("%-44s %-9s %-6s %-16s %s\n", "tensor", "fate", "dtype", "shape", "reason");
    header = true;
    std::string shape;
    for (size_t i = 0; i < p.shape.size(); ++i) shape += (i ? "x" : "") + std::to_string(p.shape[i]);
    std::printf("%-44s %-9s %-6s %-16s %s\n", p.name.c_str(), fate_name(p.fate), p.dtype.c_str(), shape.c_str(),
                p.reason.c_str());
  }
  if (excluded) std::printf("%zu tensors excluded by --tensors\n", excluded);
  std::printf("tensors: %s\n", fate_summary(plan).c_str());
}

// The flags into `a` (checked); false after --help.
bool parse_args(int argc, char** argv, Args& a, po::variables_map& vm) {
  // "xfp|xfp.v2|...: ": the choice list shell completion offers (cli_util.h).
  std::string scheme_help = "xfp|" + scheme_names() + ": quantization scheme (xfp: the mode chosen per layer)";
  for (size_t p; (p = scheme_help.find(", ")) != std::string::npos;) scheme_help.replace(p, 2, "|");
  po::options_description opts("options");
  opts.add_options()("input", po::value(&a.in)->required(), "input model (folder, index, file) or synth:... spec")(
      "output,o", po::value(&a.out)->required(), "output .xfp file (written atomically)")(
      "scheme", po::value(&a.q.scheme)->default_value("xfp"), scheme_help.c_str())(
      "floor-strict", po::value(&a.q.floor_strict)->default_value(0.99),
      "per-row cosine floor: attention, shared experts, dense roles")(
      "floor-lazy", po::value(&a.q.floor_lazy)->default_value(0.98), "per-row cosine floor: routed experts")(
      "bits", po::value(&a.q.bits)->default_value(0),
      "XFP index bits (2,3,4,5,6,8); 0 = chosen per layer by the floors")(
      "group", po::value(&a.q.group)->default_value(0), "xfp.v2 codebook group along K; 0 = whole row")(
      "outliers", po::value(&a.q.outliers)->default_value(-1), "XFP fp16 outlier fraction; <0 = searched")(
      "sop-format", po::value(&a.q.sop_format),
      "SOP format (docs/sop.md), or a comma-separated candidate list with --budget-bpw")(
      "budget-bpw", po::value(&a.q.budget_bpw)->default_value(0),
      "SOP: model-wide bpw budget, one candidate format per layer (knapsack)")(
      "act-stats", po::value(&a.q.act_stats),
      "SOP: safetensors of E[x^2] per input column, one vector per layer name (ACos)")(
      "tensors", po::value(&a.tensors), "only tensors whose name matches this regex (the rest are excluded)")(
      "keep", po::value(&a.keep), "keep tensors whose name matches this regex in source precision")(
      "quantize-embeddings", po::bool_switch(&a.quantize_embeddings),
      "quantize embedding tables too (kept by default)")("role", po::value(&a.q.role_overrides)->composing(),
                                                         "REGEX=ROLE, overrides the default role rules (repeatable)")(
      "threads,j", po::value(&a.q.threads)->default_value(0),
      "worker threads; 0 = all cores (output is the same for any number)")(
      "max-memory-gb", po::value(&a.q.max_memory_gb)->default_value(1.5),
      "tensors are quantized side by side only while their estimated working memory fits this; a larger one runs "
      "alone")("report", po::value(&a.report), "also write the report as JSON here")(
      "json", po::bool_switch(&a.json), JsonStdout::kHelp)("fail-on-floor", po::bool_switch(&a.fail_on_floor),
                                                           "exit 5 when any layer misses its floor")(
      "quiet,q", po::bool_switch(&a.quiet), "no progress bar");
  po::positional_options_description pos;
  pos.add("input", 1);
  if (!parse_command_line(argc, argv, kUsage, opts, pos, vm)) return false;
  check_quantize_settings(a.q);
  check_output_file(a.out, "-o", {a.in, a.q.act_stats});
  check_output_file(a.report, "--report", {a.in, a.q.act_stats});
  if (!a.report.empty() && std::filesystem::weakly_canonical(a.report) == std::filesystem::weakly_canonical(a.out))
    throw Error(ExitCode::kUsage, "--report '" + a.report + "' and -o '" + a.out +
                                      "' name the same file: the report would replace the .xfp");
  return true;
}

// The input with --tensors, --keep and --quantize-embeddings applied.
std::unique_ptr<MatrixSource> open_source(const Args& a, const po::variables_map& vm) {
  std::regex only_re, keep_re;
  FateOptions fo;
  fo.keep_embeddings = !a.quantize_embeddings;
  if (vm.count("tensors")) fo.only = &(only_re = compile_regex("tensors", a.tensors));
  if (vm.count("keep")) fo.keep = &(keep_re = compile_regex("keep", a.keep));
  auto src = MatrixSource::open(a.in, fo);
  if (!src->file() && vm.count("tensors")) src->filter(only_re);  // synthetic inputs have no plan
  return src;
}

// Every layer into `writer` behind a progress bar; the writer is finished.
std::vector<LayerReport> quantize_layers(const Args& a, const MatrixSource& src, const QuantizePipeline& pipeline,
                                         XfpWriter& writer) {
  uint64_t total = 0;
  for (const auto& m : src.matrices()) total += uint64_t(m.rows) * m.cols;
  Progress progress("quantize", total, !a.quiet);
  return write_quantized(pipeline, writer, [&](const QuantizedRecord& r) {
    progress.start_item(r.layer.name, uint64_t(r.layer.rows) * r.layer.cols);
    std::fputs(r.log.c_str(), stdout);
  });
}

int run_quantize(int argc, char** argv) {
  Args a;
  po::variables_map vm;
  if (!parse_args(argc, argv, a, vm)) return 0;
  JsonStdout json_out(a.json);
  const std::unique_ptr<MatrixSource> src = open_source(a, vm);
  std::string log;
  const QuantizePipeline pipeline(a.q, *src, &log);
  std::fputs(log.c_str(), stdout);

  XfpWriter writer(a.out, quantize_metadata(*src, a.q.scheme));
  const std::vector<LayerReport> rows = quantize_layers(a, *src, pipeline, writer);
  const ReportTotals totals = finish_quantized(writer, rows);
  if (src->file()) print_fates(src->plan());
  print_report_table(stdout, rows, totals);
  std::unique_ptr<AtomicFile> report;
  nlohmann::json summary;
  if (!a.report.empty() || a.json) {
    summary = quantize_report_json(rows, totals, a.q, a.in, a.out, src->plan());
    if (!a.report.empty()) report = prepare_json_file(a.report, summary);
    summary["files_written"] =
        a.report.empty() ? nlohmann::json::array({a.out}) : nlohmann::json::array({a.out, a.report});
  }
  // Both files are complete on disk before either is renamed into place, so
  // a failure while writing either leaves both targets as they were.
  writer.commit();
  if (report) report->commit();
  std::printf("wrote %s\n", a.out.c_str());
  json_out.emit(summary);  // after both files are in place, so files_written are there
  return (a.fail_on_floor && totals.floors_missed) ? int(ExitCode::kQuality) : 0;
}

const RegisterCommand kRegister({"quantize", "quantize weights to .xfp (XFP floors or a baseline) and report quality",
                                 run_quantize});

}  // namespace
}  // namespace lutc::cli

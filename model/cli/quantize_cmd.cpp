// lutc quantize: weights in, .xfp out, with a per-layer quality report and the
// fate of every input tensor. Layers are quantized on --threads threads and
// appended to the .xfp in input order as each is done, so memory stays at a
// few tensors and the bytes do not depend on the thread count.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "cli_util.h"
#include "command.h"
#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "lutc/model/layer_report.h"
#include "lutc/model/matrix_source.h"
#include "lutc/model/ordered_pool.h"
#include "lutc/model/quantize.h"
#include "lutc/model/tensor_fates.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"
#include "progress.h"
#include "quantize_sop.h"

namespace lutc::cli {
namespace {

const char* kUsage =
    "usage: lutc quantize IN -o OUT.xfp [options]\n\n"
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
    "schemes: xfp (auto V2/V2a), xfp.v2, xfp.v2a, sop, int4.g128, nf4.b64, fp8.e4m3";

struct Args {
  std::string in, out, report, scheme, tensors, keep, sop_format, act_stats;
  double budget_bpw = 0;
  std::vector<std::string> role_overrides;
  double floor_strict = 0.99, floor_lazy = 0.98, outliers = -1;
  unsigned bits = 0, group = 0, threads = 0;
  double max_memory_gb = 1.5;
  bool quiet = false, fail_on_floor = false, quantize_embeddings = false;
};

// What one worker hands back for one matrix.
struct LayerResult {
  QuantizedLayer layer;
  LayerReport report;
  std::string log;
};

QuantizedLayer quantize_matrix(const Args& a, const MatrixEntry& m, Role role, const std::vector<float>& w,
                               double* floor_out, const SopContext& sc, std::string* log) {
  *floor_out = 0;
  if (a.scheme == "sop") return quantize_sop_matrix(sc, m, role, w, log);
  Scheme s;
  const bool xfp_auto = a.scheme == "xfp";
  if (!xfp_auto && !parse_scheme(a.scheme, &s))
    throw Error(ExitCode::kUsage, "--scheme '" + a.scheme + "' is unknown; one of: xfp, " + scheme_names());
  if (xfp_auto || is_xfp(s)) {
    XfpOptions o;
    o.auto_mode = xfp_auto;
    o.mode = xfp_auto ? Scheme::kXfpV2 : s;
    o.bits = a.bits;
    o.group = a.group;
    o.floor_strict = a.floor_strict;
    o.floor_lazy = a.floor_lazy;
    o.outlier_fraction = a.outliers;
    XfpChoice choice;
    QuantizedLayer q = quantize_xfp(m.name, role, w.data(), m.rows, m.cols, o, &choice);
    *floor_out = role_uses_lazy_floor(role) ? a.floor_lazy : a.floor_strict;
    return q;
  }
  if (!is_baseline(s)) throw Error(ExitCode::kUsage, "--scheme " + a.scheme + " is not available in lutc quantize yet");
  return quantize_baseline(s, m.name, role, w.data(), m.rows, m.cols);
}

std::regex compile_regex(const std::string& flag, const std::string& re) {
  try {
    return std::regex(re);
  } catch (const std::regex_error& e) {
    throw Error(ExitCode::kUsage, "--" + flag + " '" + re + "' is not a valid regex: " + e.what());
  }
}

// The model's name, the same for its folder, index file, single file or shard,
// so the .xfp does not depend on how the model was laid out on disk.
std::string model_name(const std::string& spec) {
  namespace fs = std::filesystem;
  fs::path p(spec);
  if (!p.has_filename()) p = p.parent_path();  // "dir/"
  const std::string file = p.filename().string();
  const std::string index = ".safetensors.index.json";
  // The index names its folder's model.
  if (file.size() >= index.size() && file.compare(file.size() - index.size(), index.size(), index) == 0)
    return fs::absolute(p).parent_path().filename().string();
  for (const char* ext : {".safetensors", ".gguf", ".bin"}) {
    const std::string e(ext);
    if (file.size() > e.size() && file.compare(file.size() - e.size(), e.size(), e) == 0)
      return file.substr(0, file.size() - e.size());
  }
  return file;
}

KeptTensor kept_tensor(const WeightFile& f, const TensorPlan& p) {
  const TensorInfo* t = f.find(p.source);
  if (!t) throw Error(ExitCode::kInternal, "tensor '" + p.source + "' vanished from " + f.path());
  KeptTensor k;
  k.name = p.name;
  k.dtype = t->dtype;
  k.shape = t->shape;
  k.bytes = f.read_raw(*t);
  return k;
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

nlohmann::json fates_json(const std::vector<TensorPlan>& plan) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& p : plan) {
    nlohmann::json j = {{"name", p.name}, {"source", p.source}, {"fate", fate_name(p.fate)},
                        {"dtype", p.dtype}, {"shape", p.shape}, {"reason", p.reason}};
    if (p.expert >= 0) j["expert"] = p.expert;
    if (!p.alias_of.empty()) j["alias_of"] = p.alias_of;
    arr.push_back(std::move(j));
  }
  return arr;
}

int run_quantize(int argc, char** argv) {
  Args a;
  // "xfp|xfp.v2|...: ": the choice list shell completion offers (cli_util.h).
  std::string scheme_help = "xfp|" + scheme_names() + ": quantization scheme (xfp: the mode chosen per layer)";
  for (size_t p; (p = scheme_help.find(", ")) != std::string::npos;) scheme_help.replace(p, 2, "|");
  po::options_description opts("options");
  opts.add_options()
      ("input", po::value(&a.in)->required(), "input model (folder, index, file) or synth:... spec")
      ("output,o", po::value(&a.out)->required(), "output .xfp file (written atomically)")
      ("scheme", po::value(&a.scheme)->default_value("xfp"), scheme_help.c_str())
      ("floor-strict", po::value(&a.floor_strict)->default_value(0.99), "per-row cosine floor: attention, shared experts, dense roles")
      ("floor-lazy", po::value(&a.floor_lazy)->default_value(0.98), "per-row cosine floor: routed experts")
      ("bits", po::value(&a.bits)->default_value(0), "XFP index bits (2,3,4,5,6,8); 0 = chosen per layer by the floors")
      ("group", po::value(&a.group)->default_value(0), "xfp.v2 codebook group along K; 0 = whole row")
      ("outliers", po::value(&a.outliers)->default_value(-1), "XFP fp16 outlier fraction; <0 = searched")
      ("sop-format", po::value(&a.sop_format), "SOP format (docs/sop.md), or a comma-separated candidate list with --budget-bpw")
      ("budget-bpw", po::value(&a.budget_bpw)->default_value(0), "SOP: model-wide bpw budget, one candidate format per layer (knapsack)")
      ("act-stats", po::value(&a.act_stats), "SOP: safetensors of E[x^2] per input column, one vector per layer name (ACos)")
      ("tensors", po::value(&a.tensors), "only tensors whose name matches this regex (the rest are excluded)")
      ("keep", po::value(&a.keep), "keep tensors whose name matches this regex in source precision")
      ("quantize-embeddings", po::bool_switch(&a.quantize_embeddings), "quantize embedding tables too (kept by default)")
      ("role", po::value(&a.role_overrides)->composing(), "REGEX=ROLE, overrides the default role rules (repeatable)")
      ("threads,j", po::value(&a.threads)->default_value(0), "worker threads; 0 = all cores (output is the same for any number)")
      ("max-memory-gb", po::value(&a.max_memory_gb)->default_value(1.5),
       "tensors are quantized side by side only while their estimated working memory fits this; a larger one runs alone")
      ("report", po::value(&a.report), "also write the report as JSON here")
      ("fail-on-floor", po::bool_switch(&a.fail_on_floor), "exit 5 when any layer misses its floor")
      ("quiet,q", po::bool_switch(&a.quiet), "no progress bar");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv, kUsage, opts, pos, vm)) return 0;

  check_range("floor-strict", a.floor_strict, 0.0, 1.0);
  check_range("floor-lazy", a.floor_lazy, 0.0, 1.0);
  check_range("threads", a.threads, 0, 1024);
  check_range("max-memory-gb", a.max_memory_gb, 0.01, 1e6);
  if (a.bits != 0 && !valid_index_bits(a.bits))
    throw Error(ExitCode::kUsage, "--bits " + std::to_string(a.bits) + " is not one of 0, 2, 3, 4, 5, 6, 8");
  if (a.outliers >= 0) check_range("outliers", a.outliers, 0.0, 0.5);
  const unsigned threads = a.threads ? a.threads : std::max(1u, std::thread::hardware_concurrency());
  SopContext sop;
  if (a.scheme == "sop") {
    if (a.budget_bpw != 0) check_range("budget-bpw", a.budget_bpw, 1.0, 32.0);
    sop.formats = parse_sop_formats(a.sop_format, a.budget_bpw);
  } else if (!a.sop_format.empty() || a.budget_bpw != 0 || !a.act_stats.empty()) {
    throw Error(ExitCode::kUsage, "--sop-format, --budget-bpw and --act-stats need --scheme sop");
  }

  RoleRules rules;
  for (const auto& spec : a.role_overrides) rules.add_override(spec);
  std::regex only_re, keep_re;
  FateOptions fo;
  fo.keep_embeddings = !a.quantize_embeddings;
  if (vm.count("tensors")) fo.only = &(only_re = compile_regex("tensors", a.tensors));
  if (vm.count("keep")) fo.keep = &(keep_re = compile_regex("keep", a.keep));
  auto src = MatrixSource::open(a.in, fo);
  if (!src->file() && vm.count("tensors")) src->filter(only_re);  // synthetic inputs have no plan
  if (src->matrices().empty())
    throw Error(ExitCode::kBadInput, "input '" + a.in + "': no 2-D tensor to quantize (" +
                                         (src->file() ? fate_summary(src->plan()) : std::string("none selected")) + ")");
  if (a.scheme == "sop") {
    if (!a.act_stats.empty()) {
      sop.stats = ActStats::open(a.act_stats);
      for (const auto& m : src->matrices()) sop.stats->find(m.name, m.cols);  // fail early on bad statistics
      std::printf("selection metric: ACos, activation statistics from %s\n", a.act_stats.c_str());
    } else {
      std::printf("selection metric: plain cosine (no --act-stats given; ACos falls back to cosine)\n");
    }
    if (a.budget_bpw > 0 && !src->matrices().empty()) plan_sop_budget(a.budget_bpw, *src, rules, threads, sop);
  }

  std::map<std::string, std::string> meta = {
      {"source", src->file() ? model_name(a.in) : a.in}, {"scheme", a.scheme}, {"producer", "lutc 0.1.0"}};
  XfpWriter writer(a.out, meta);
  uint64_t total = 0;
  for (const auto& m : src->matrices()) total += uint64_t(m.rows) * m.cols;
  std::vector<LayerReport> rows;
  {
    // Records in input order: matrices from the pool, kept tensors and aliases
    // as their turn comes, so the file layout follows the input.
    struct Item {
      const TensorPlan* plan = nullptr;    // kept/alias rows
      const MatrixEntry* matrix = nullptr;  // quantized rows
    };
    std::vector<Item> items;
    if (src->file()) {
      size_t mi = 0;
      for (const auto& p : src->plan()) {
        if (p.fate == TensorFate::kQuantize) items.push_back({nullptr, &src->matrices()[mi++]});
        else if (p.fate == TensorFate::kKeep || p.fate == TensorFate::kAlias) items.push_back({&p, nullptr});
      }
    } else {
      for (const auto& m : src->matrices()) items.push_back({nullptr, &m});
    }
    Progress progress("quantize", total, !a.quiet);
    // Working memory of one tensor: its fp32 copy, the quantizer's sorted
    // layer (value + position) and the output, about 16 bytes a weight.
    PoolBudget budget;
    budget.limit = uint64_t(a.max_memory_gb * double(1ull << 30));
    budget.cost = [&](size_t i) {
      const MatrixEntry* m = items[i].matrix;
      return m ? 16 * uint64_t(m->rows) * m->cols : 0;
    };
    ordered_parallel<LayerResult>(
        items.size(), threads, 2 * size_t(threads),
        [&](size_t i) {
          LayerResult r;
          const MatrixEntry* m = items[i].matrix;
          if (!m) return r;
          const Role role = m->routed_expert ? Role::kRoutedExpert : rules.classify(m->name);
          // One buffer per worker, reused: its pages fault in once, not per tensor.
          thread_local std::vector<float> w;
          src->load_into(*m, &w);
          double floor = 0;
          r.layer = quantize_matrix(a, *m, role, w, &floor, sop, &r.log);
          r.report = describe_layer(r.layer);
          add_quality(r.report, w.data(), r.layer, floor);  // golden decode, a few rows at a time
          return r;
        },
        [&](size_t i, LayerResult&& r) {
          if (const TensorPlan* p = items[i].plan) {
            if (p->fate == TensorFate::kAlias) writer.append_alias({p->name, p->alias_of});
            else writer.append_kept(kept_tensor(*src->file(), *p));
            return;
          }
          progress.start_item(r.layer.name, uint64_t(r.layer.rows) * r.layer.cols);
          std::fputs(r.log.c_str(), stdout);
          writer.append(r.layer);
          rows.push_back(std::move(r.report));
        },
        budget);
  }
  writer.commit();
  // Header, aliases, index and trailer, amortized over the layers as `info` does.
  const ReportTotals totals = total_of(rows, 8 * XfpReader(a.out).overhead_bytes());
  if (src->file()) print_fates(src->plan());
  print_report_table(stdout, rows, totals);
  std::printf("wrote %s\n", a.out.c_str());
  if (!a.report.empty()) {
    nlohmann::json j = report_json(rows, totals);
    j["input"] = a.in;
    j["output"] = a.out;
    j["scheme"] = a.scheme;
    j["floor_strict"] = a.floor_strict;
    j["floor_lazy"] = a.floor_lazy;
    j["tensors"] = fates_json(src->plan());
    if (a.scheme == "sop") {
      j["sop_format"] = a.sop_format;
      j["budget_bpw"] = a.budget_bpw;
      j["selection_metric"] = sop.stats ? "acos" : "cosine";
    }
    write_json_file(a.report, j);
  }
  return (a.fail_on_floor && totals.floors_missed) ? int(ExitCode::kQuality) : 0;
}

const RegisterCommand kRegister({"quantize", "quantize weights to .xfp (XFP floors or a baseline) and report quality",
                                 run_quantize});

}  // namespace
}  // namespace lutc::cli

// lutc quantize: weights in, .xfp out, with a per-layer quality report.
#include <algorithm>
#include <map>
#include <memory>
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

#include "cli_util.h"
#include "command.h"
#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "lutc/model/layer_report.h"
#include "lutc/model/matrix_source.h"
#include "lutc/model/quantize.h"
#include "lutc/model/sop.h"
#include "lutc/model/xfp_file.h"
#include "progress.h"

namespace lutc::cli {
namespace {

const char* kUsage =
    "usage: lutc quantize IN -o OUT.xfp [options]\n\n"
    "Quantizes every 2-D tensor of IN (safetensors F32/F16/BF16, a llama2.c checkpoint, or a\n"
    "built-in synthetic input: synth:default | synth:NxK[,NxK...][@SEED]) and prints, per layer:\n"
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
  std::string in, out, report, scheme, tensors, sop_format, act_stats;
  double budget_bpw = 0;
  std::vector<std::string> role_overrides;
  double floor_strict = 0.99, floor_lazy = 0.98, outliers = -1;
  unsigned bits = 0, group = 0;
  bool quiet = false, fail_on_floor = false;
};

// What the SOP path needs besides Args: parsed formats, statistics, the plan.
struct SopContext {
  std::vector<SopFormat> formats;          // one, or the knapsack candidates
  std::unique_ptr<ActStats> stats;
  std::map<std::string, SopFormat> plan;   // --budget-bpw: format per layer
};

std::vector<SopFormat> parse_sop_formats(const Args& a) {
  std::vector<SopFormat> v;
  if (a.sop_format.empty()) {
    if (a.budget_bpw > 0) return sop_knapsack_ladder();
    throw Error(ExitCode::kUsage, "--scheme sop needs --sop-format F (e.g. e2m3.ue4m4.b16) or --budget-bpw X");
  }
  size_t at = 0;
  for (;;) {
    // Commas inside pair(...) do not separate formats.
    size_t end = at;
    int depth = 0;
    while (end < a.sop_format.size() && !(a.sop_format[end] == ',' && depth == 0)) {
      depth += a.sop_format[end] == '(' ? 1 : a.sop_format[end] == ')' ? -1 : 0;
      ++end;
    }
    v.push_back(parse_sop_format(a.sop_format.substr(at, end - at)));
    if (end >= a.sop_format.size()) break;
    at = end + 1;
  }
  if (v.size() > 1 && a.budget_bpw <= 0)
    throw Error(ExitCode::kUsage, "--sop-format '" + a.sop_format + "': a list of formats needs --budget-bpw");
  return v;
}

std::unique_ptr<std::vector<double>> act_for(const SopContext& sc, const MatrixEntry& m) {
  if (!sc.stats) return nullptr;
  auto v = sc.stats->find(m.name, m.cols);
  if (!v) std::printf("note: %s has no activation statistics in %s; ACos falls back to plain cosine\n",
                      m.name.c_str(), sc.stats->path().c_str());
  return v;
}

// --budget-bpw: score every candidate on every layer (exact bits, ACos error
// estimated on at most 256 evenly spaced rows), then solve the knapsack.
void plan_budget(const Args& a, MatrixSource& src, const RoleRules& rules, SopContext& sc) {
  std::vector<std::vector<KnapsackItem>> groups;
  uint64_t elements = 0;
  for (const auto& m : src.matrices()) {
    const std::vector<float> w = src.load(m);
    const auto act = act_for(sc, m);
    const uint32_t n = std::min<uint32_t>(m.rows, 256);
    std::vector<float> sub(size_t(n) * m.cols);
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t r = uint32_t(uint64_t(i) * m.rows / n);
      std::copy(w.begin() + size_t(r) * m.cols, w.begin() + size_t(r + 1) * m.cols, sub.begin() + size_t(i) * m.cols);
    }
    std::vector<KnapsackItem> items;
    for (const SopFormat& f : sc.formats) {
      SopOptions o;
      o.format = f;
      o.act = act.get();
      SopChoice ch;
      quantize_sop(m.name, rules.classify(m.name), sub.data(), n, m.cols, o, &ch);
      items.push_back({sop_stored_bits(m.name, m.rows, m.cols, f), ch.acos_error * double(m.rows) / n});
    }
    groups.push_back(items);
    elements += uint64_t(m.rows) * m.cols;
  }
  const uint64_t budget = uint64_t(a.budget_bpw * double(elements));
  const KnapsackResult r = solve_mckp(groups, budget);
  if (!r.feasible) {
    uint64_t least = 0;
    for (const auto& g : groups) {
      uint64_t b = g[0].bits;
      for (const auto& it : g) b = std::min(b, it.bits);
      least += b;
    }
    throw Error(ExitCode::kUsage, "--budget-bpw " + std::to_string(a.budget_bpw) +
                                      " is below the cheapest candidate assignment (" +
                                      std::to_string(double(least) / double(elements)) + " bpw)");
  }
  for (size_t i = 0; i < src.matrices().size(); ++i)
    sc.plan[src.matrices()[i].name] = sc.formats[r.choice[i]];
  std::printf("knapsack: budget %.4f bpw, chose %.4f bpw (layers only), estimated sum(1-ACos) %.6g, "
              "optimality gap <= %.3g\n",
              a.budget_bpw, double(r.bits) / double(elements), r.error, r.gap_bound);
}

QuantizedLayer quantize_sop_layer(const SopContext& sc, const MatrixEntry& m, Role role, const std::vector<float>& w) {
  const auto act = act_for(sc, m);
  SopOptions o;
  o.format = sc.plan.empty() ? sc.formats.front() : sc.plan.at(m.name);
  o.act = act.get();
  SopChoice ch;
  QuantizedLayer q = quantize_sop(m.name, role, w.data(), m.rows, m.cols, o, &ch);
  std::printf("sop: %-28s %-30s %s min %.6f mean %.6f, codebook b in %.1f%% of blocks\n", m.name.c_str(),
              ch.format.name().c_str(), ch.act_weighted ? "ACos" : "cos", ch.acos_min, ch.acos_mean,
              100 * ch.sel_b_fraction);
  return q;
}

QuantizedLayer quantize_one(const Args& a, const MatrixEntry& m, Role role, const std::vector<float>& w,
                            double* floor_out, const SopContext& sc) {
  if (a.scheme == "sop") {
    *floor_out = 0;
    return quantize_sop_layer(sc, m, role, w);
  }
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
  *floor_out = 0;
  return quantize_baseline(s, m.name, role, w.data(), m.rows, m.cols);
}

int run_quantize(int argc, char** argv) {
  Args a;
  po::options_description opts("options");
  opts.add_options()
      ("input", po::value(&a.in)->required(), "input weights or synth:... spec")
      ("output,o", po::value(&a.out)->required(), "output .xfp file (written atomically)")
      ("scheme", po::value(&a.scheme)->default_value("xfp"), "quantization scheme")
      ("floor-strict", po::value(&a.floor_strict)->default_value(0.99), "per-row cosine floor: attention, shared experts, dense roles")
      ("floor-lazy", po::value(&a.floor_lazy)->default_value(0.98), "per-row cosine floor: routed experts")
      ("bits", po::value(&a.bits)->default_value(0), "XFP index bits (2,3,4,5,6,8); 0 = chosen per layer by the floors")
      ("group", po::value(&a.group)->default_value(0), "xfp.v2 codebook group along K; 0 = whole row")
      ("outliers", po::value(&a.outliers)->default_value(-1), "XFP fp16 outlier fraction; <0 = searched")
      ("sop-format", po::value(&a.sop_format), "SOP format (docs/sop.md), or a comma-separated candidate list with --budget-bpw")
      ("budget-bpw", po::value(&a.budget_bpw)->default_value(0), "SOP: model-wide bpw budget, one candidate format per layer (knapsack)")
      ("act-stats", po::value(&a.act_stats), "SOP: safetensors of E[x^2] per input column, one vector per layer name (ACos)")
      ("tensors", po::value(&a.tensors), "only tensors whose name matches this regex")
      ("role", po::value(&a.role_overrides)->composing(), "REGEX=ROLE, overrides the default role rules (repeatable)")
      ("report", po::value(&a.report), "also write the report as JSON here")
      ("fail-on-floor", po::bool_switch(&a.fail_on_floor), "exit 5 when any layer misses its floor")
      ("quiet,q", po::bool_switch(&a.quiet), "no progress bar");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv, kUsage, opts, pos, vm)) return 0;

  check_range("floor-strict", a.floor_strict, 0.0, 1.0);
  check_range("floor-lazy", a.floor_lazy, 0.0, 1.0);
  if (a.bits != 0 && !valid_index_bits(a.bits))
    throw Error(ExitCode::kUsage, "--bits " + std::to_string(a.bits) + " is not one of 0, 2, 3, 4, 5, 6, 8");
  if (a.outliers >= 0) check_range("outliers", a.outliers, 0.0, 0.5);
  SopContext sop;
  if (a.scheme == "sop") {
    if (a.budget_bpw != 0) check_range("budget-bpw", a.budget_bpw, 1.0, 32.0);
    sop.formats = parse_sop_formats(a);
  } else if (!a.sop_format.empty() || a.budget_bpw != 0 || !a.act_stats.empty()) {
    throw Error(ExitCode::kUsage, "--sop-format, --budget-bpw and --act-stats need --scheme sop");
  }

  RoleRules rules;
  for (const auto& spec : a.role_overrides) rules.add_override(spec);
  auto src = MatrixSource::open(a.in);
  if (vm.count("tensors")) {
    try {
      src->filter(std::regex(a.tensors));
    } catch (const std::regex_error& e) {
      throw Error(ExitCode::kUsage, "--tensors '" + a.tensors + "' is not a valid regex: " + e.what());
    }
  }
  if (src->matrices().empty()) throw Error(ExitCode::kBadInput, "input '" + a.in + "': no 2-D tensor to quantize");
  if (a.scheme == "sop") {
    if (!a.act_stats.empty()) {
      sop.stats = ActStats::open(a.act_stats);
      for (const auto& m : src->matrices()) sop.stats->find(m.name, m.cols);  // fail early on bad statistics
      std::printf("selection metric: ACos, activation statistics from %s\n", a.act_stats.c_str());
    } else {
      std::printf("selection metric: plain cosine (no --act-stats given; ACos falls back to cosine)\n");
    }
    if (a.budget_bpw > 0) plan_budget(a, *src, rules, sop);
  }

  uint64_t total = 0;
  for (const auto& m : src->matrices()) total += uint64_t(m.rows) * m.cols;
  XfpFile file;
  file.metadata["source"] = a.in;
  file.metadata["scheme"] = a.scheme;
  file.metadata["producer"] = "lutc 0.1.0";
  std::vector<LayerReport> rows;
  {
    Progress progress("quantize", total, !a.quiet);
    for (const auto& m : src->matrices()) {
      progress.start_item(m.name, uint64_t(m.rows) * m.cols);
      const Role role = rules.classify(m.name);
      const std::vector<float> w = src->load(m);
      double floor = 0;
      QuantizedLayer q = quantize_one(a, m, role, w, &floor, sop);
      LayerReport r = describe_layer(q);
      add_quality(r, w.data(), q, floor);  // golden decode, a few rows at a time
      rows.push_back(r);
      file.layers.push_back(std::move(q));
    }
  }
  write_xfp(a.out, file);
  const ReportTotals totals = total_of(rows, 8 * file_header_bytes(file));
  if (!src->skipped().empty())
    std::printf("skipped %zu tensors that are not 2-D float matrices (norms, biases, integer buffers)\n", src->skipped().size());
  print_report_table(stdout, rows, totals);
  std::printf("wrote %s\n", a.out.c_str());
  if (!a.report.empty()) {
    nlohmann::json j = report_json(rows, totals);
    j["input"] = a.in;
    j["output"] = a.out;
    j["scheme"] = a.scheme;
    j["floor_strict"] = a.floor_strict;
    j["floor_lazy"] = a.floor_lazy;
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

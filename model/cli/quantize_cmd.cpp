// lutc quantize: weights in, .xfp out, with a per-layer quality report.
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
    "schemes: xfp (auto V2/V2a), xfp.v2, xfp.v2a, int4.g128, nf4.b64, fp8.e4m3";

struct Args {
  std::string in, out, report, scheme, tensors;
  std::vector<std::string> role_overrides;
  double floor_strict = 0.99, floor_lazy = 0.98, outliers = -1;
  unsigned bits = 0, group = 0;
  bool quiet = false, fail_on_floor = false;
};

QuantizedLayer quantize_one(const Args& a, const MatrixEntry& m, Role role, const std::vector<float>& w,
                            double* floor_out) {
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
      QuantizedLayer q = quantize_one(a, m, role, w, &floor);
      std::vector<float> w_hat(w.size());
      golden_decode(q, w_hat.data());
      LayerReport r = describe_layer(q);
      add_quality(r, w.data(), w_hat.data(), floor);
      rows.push_back(r);
      file.layers.push_back(std::move(q));
    }
  }
  write_xfp(a.out, file);
  const ReportTotals totals = total_of(rows, 8 * file_header_bytes(file));
  if (!src->skipped().empty())
    std::printf("skipped %zu tensors that are not 2-D matrices (norms, biases)\n", src->skipped().size());
  print_report_table(stdout, rows, totals);
  std::printf("wrote %s\n", a.out.c_str());
  if (!a.report.empty()) {
    nlohmann::json j = report_json(rows, totals);
    j["input"] = a.in;
    j["output"] = a.out;
    j["scheme"] = a.scheme;
    j["floor_strict"] = a.floor_strict;
    j["floor_lazy"] = a.floor_lazy;
    write_json_file(a.report, j);
  }
  return (a.fail_on_floor && totals.floors_missed) ? int(ExitCode::kQuality) : 0;
}

const RegisterCommand kRegister({"quantize", "quantize weights to .xfp (XFP floors or a baseline) and report quality",
                                 run_quantize});

}  // namespace
}  // namespace lutc::cli

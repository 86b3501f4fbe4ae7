// lutc eval: quality recomputed from the stored layers against the original
// weights — independent of what quantize reported. With --decoded it scores
// weights another tool decoded (scripts/bench-vs-ggml: ggml's dequantizer)
// with the same metric code, so both sides of a comparison use one definition.
#include <cmath>
#include <cstdio>
#include <iostream>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "lutc/model/layer_report.h"
#include "lutc/model/matrix_source.h"
#include "lutc/model/roles.h"
#include "lutc/model/xfp_file.h"

namespace lutc::cli {
namespace {

// The reference matrix of `name`, checked against the shape it is compared with.
std::vector<float> load_ref(const MatrixSource& src, const std::string& ref, const std::string& name, uint32_t rows,
                            uint32_t cols, const std::string& other) {
  const MatrixEntry* m = src.find(name);
  if (!m) fail_input(ref, name, -1, "no 2-D tensor of this name (it is in " + other + ")");
  if (m->rows != rows || m->cols != cols)
    fail_input(ref, name, -1,
               "shape " + std::to_string(m->rows) + "x" + std::to_string(m->cols) + " differs from " +
                   std::to_string(rows) + "x" + std::to_string(cols) + " in " + other);
  return src.load(*m);
}

std::vector<LayerReport> eval_xfp(const XfpFile& f, const std::string& in, const MatrixSource& src,
                                  const std::string& ref, const po::variables_map& vm, double floor) {
  std::vector<LayerReport> rows;
  for (const auto& l : f.layers) {
    const std::vector<float> w = load_ref(src, ref, l.name, l.rows, l.cols, in);
    std::vector<float> w_hat(w.size());
    golden_decode(l, w_hat.data());
    LayerReport r = describe_layer(l);
    // Measured against --floor, else against the floor the layer was quantized for.
    add_quality(r, w.data(), w_hat.data(), vm.count("floor") ? floor : recorded_floor(l));
    rows.push_back(r);
  }
  return rows;
}

// Every 2-D float tensor of a decoded weight file against its namesake in the
// reference. The file holds no storage cost, so the caller states it (--bpw).
std::vector<LayerReport> eval_decoded(const std::string& decoded, const MatrixSource& src, const std::string& ref,
                                      double bpw, double floor) {
  auto dec = MatrixSource::open(decoded);
  if (dec->matrices().empty()) fail_input(decoded, "", -1, "holds no 2-D float tensor to score");
  const RoleRules roles;
  std::vector<LayerReport> rows;
  for (const auto& m : dec->matrices()) {
    const std::vector<float> w = load_ref(src, ref, m.name, m.rows, m.cols, decoded);
    const std::vector<float> w_hat = dec->load(m);
    LayerReport r;
    r.name = m.name;
    r.role = role_name(roles.classify(m.name));
    r.rows = m.rows;
    r.cols = m.cols;
    r.scheme = "decoded";
    r.stored_bits = uint64_t(std::llround(bpw * double(m.rows) * double(m.cols)));
    r.bpw = bpw;
    add_quality(r, w.data(), w_hat.data(), floor);
    rows.push_back(r);
  }
  return rows;
}

int run_eval(int argc, char** argv) {
  std::string in, ref, decoded;
  bool json = false;
  double floor = 0, bpw = 0;
  po::options_description opts("options");
  opts.add_options()("input", po::value(&in), ".xfp file")("ref", po::value(&ref)->required(),
                                                           "original weights (the quantize input spec)")(
      "decoded", po::value(&decoded),
      "instead of an .xfp: a safetensors of weights decoded elsewhere (e.g. another quantizer's dequantized "
      "output), every 2-D float tensor scored against its namesake in --ref")(
      "bpw", po::value(&bpw), "with --decoded: the effective bits per weight of the format that produced it")(
      "floor", po::value(&floor),
      "count rows below this cosine floor (default: the floor the quantizer recorded in each layer; none for "
      "fixed-width XFP, SOP, baselines and --decoded)")("json", po::bool_switch(&json),
                                                        "print JSON instead of a table");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_command_line(
          argc, argv,
          "usage: lutc eval X.xfp --ref IN [--floor F] [--json]\n"
          "       lutc eval --decoded D.safetensors --bpw B --ref IN [--floor F] [--json]\n\n"
          "Decodes every layer and compares it with the tensor of the same name in IN.\n"
          "Each row's floor is --floor, else the floor the quantizer recorded in the layer; a layer with neither "
          "shows no floor (JSON: \"floor\": null, \"floor_met\": null).\n"
          "--decoded scores weights decoded by another tool with the same metrics; a decoded file carries no "
          "storage cost, so --bpw states it (every stored bit per weight, as that format counts it; it is "
          "reported, not checked).",
          opts, pos, vm))
    return 0;
  check_range("floor", floor, 0.0, 1.0);
  if (in.empty() == decoded.empty()) throw Error(ExitCode::kUsage, "give one of X.xfp and --decoded D.safetensors");
  if (!decoded.empty() && !vm.count("bpw"))
    throw Error(ExitCode::kUsage, "--decoded needs --bpw B: the decoded file does not say what it cost to store");
  if (decoded.empty() && vm.count("bpw")) throw Error(ExitCode::kUsage, "--bpw goes with --decoded only");
  if (vm.count("bpw") && !(bpw > 0 && bpw <= 64)) throw Error(ExitCode::kUsage, "--bpw: a number in (0, 64]");
  std::vector<LayerReport> rows;
  ReportTotals t;
  if (decoded.empty()) {
    const XfpFile f = read_xfp(in);
    auto src = MatrixSource::open(ref);
    rows = eval_xfp(f, in, *src, ref, vm, floor);
    t = total_of(rows, 8 * file_header_bytes(f));
  } else {
    auto src = MatrixSource::open(ref);
    rows = eval_decoded(decoded, *src, ref, bpw, floor);
    t = total_of(rows);
  }
  if (json) {
    nlohmann::json j = report_json(rows, t);
    j["file"] = decoded.empty() ? in : decoded;
    j["ref"] = ref;
    if (!decoded.empty()) j["decoded"] = true;
    std::cout << j.dump(2) << "\n";
  } else {
    print_report_table(stdout, rows, t);
  }
  return 0;
}

const RegisterCommand kRegister({"eval", "recompute quality of an .xfp against the original weights", run_eval});

}  // namespace
}  // namespace lutc::cli

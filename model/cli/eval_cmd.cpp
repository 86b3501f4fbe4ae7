// lutc eval: quality recomputed from the stored layers against the original
// weights — independent of what quantize reported.
#include <cstdio>
#include <iostream>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "lutc/model/layer_report.h"
#include "lutc/model/matrix_source.h"
#include "lutc/model/xfp_file.h"

namespace lutc::cli {
namespace {

int run_eval(int argc, char** argv) {
  std::string in, ref;
  bool json = false;
  double floor = 0;
  po::options_description opts("options");
  opts.add_options()("input", po::value(&in)->required(), ".xfp file")("ref", po::value(&ref)->required(),
                                                                       "original weights (the quantize input spec)")(
      "floor", po::value(&floor),
      "count rows below this cosine floor (default: the floor the quantizer recorded in each layer; none for "
      "fixed-width XFP, SOP, baselines)")("json", po::bool_switch(&json), "print JSON instead of a table");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_command_line(
          argc, argv,
          "usage: lutc eval X.xfp --ref IN [--floor F] [--json]\n\nDecodes every layer and compares it with the tensor "
          "of the same name in IN.\n"
          "Each row's floor is --floor, else the floor the quantizer recorded in the layer; a layer with neither "
          "shows no floor (JSON: \"floor\": null, \"floor_met\": null).",
          opts, pos, vm))
    return 0;
  check_range("floor", floor, 0.0, 1.0);
  const XfpFile f = read_xfp(in);
  auto src = MatrixSource::open(ref);
  std::vector<LayerReport> rows;
  for (const auto& l : f.layers) {
    const MatrixEntry* m = src->find(l.name);
    if (!m) fail_input(ref, l.name, -1, "no 2-D tensor of this name (it is in " + in + ")");
    if (m->rows != l.rows || m->cols != l.cols)
      fail_input(ref, l.name, -1,
                 "shape " + std::to_string(m->rows) + "x" + std::to_string(m->cols) + " differs from the quantized " +
                     std::to_string(l.rows) + "x" + std::to_string(l.cols));
    const std::vector<float> w = src->load(*m);
    std::vector<float> w_hat(w.size());
    golden_decode(l, w_hat.data());
    LayerReport r = describe_layer(l);
    // Measured against --floor, else against the floor the layer was quantized for.
    add_quality(r, w.data(), w_hat.data(), vm.count("floor") ? floor : recorded_floor(l));
    rows.push_back(r);
  }
  const ReportTotals t = total_of(rows, 8 * file_header_bytes(f));
  if (json) {
    nlohmann::json j = report_json(rows, t);
    j["file"] = in;
    j["ref"] = ref;
    std::cout << j.dump(2) << "\n";
  } else {
    print_report_table(stdout, rows, t);
  }
  return 0;
}

const RegisterCommand kRegister({"eval", "recompute quality of an .xfp against the original weights", run_eval});

}  // namespace
}  // namespace lutc::cli

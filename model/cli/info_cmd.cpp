// lutc info: what an .xfp holds, with sizes and effective bpw.
#include <cstdio>
#include <iostream>

#include "cli_util.h"
#include "command.h"
#include "lutc/model/layer_report.h"
#include "lutc/model/xfp_file.h"

namespace lutc::cli {
namespace {

int run_info(int argc, char** argv) {
  std::string in;
  bool json = false;
  po::options_description opts("options");
  opts.add_options()("input", po::value(&in)->required(), ".xfp file")(
      "json", po::bool_switch(&json), "print JSON instead of a table");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv, "usage: lutc info X.xfp [--json]\n\nLists the layers of an .xfp container: role, shape, scheme, bits, outliers, stored bits and effective bpw.",
                          opts, pos, vm))
    return 0;
  const XfpFile f = read_xfp(in);
  std::vector<LayerReport> rows;
  for (const auto& l : f.layers) rows.push_back(describe_layer(l));
  const ReportTotals t = total_of(rows, 8 * file_header_bytes(f));
  if (json) {
    nlohmann::json j = report_json(rows, t);
    j["file"] = in;
    j["metadata"] = f.metadata;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("%s: %zu layers\n", in.c_str(), f.layers.size());
  for (const auto& [k, v] : f.metadata) std::printf("  %s = %s\n", k.c_str(), v.c_str());
  print_report_table(stdout, rows, t);
  return 0;
}

const RegisterCommand kRegister({"info", "list the layers of an .xfp with sizes and effective bpw", run_info});

}  // namespace
}  // namespace lutc::cli

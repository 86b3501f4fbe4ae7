// lutc decode: the golden decode of every layer, as fp32 safetensors under the
// original tensor names, so any tool can evaluate the quantized weights.
#include <cstdio>

#include "cli_util.h"
#include "command.h"
#include "lutc/model/golden.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"

namespace lutc::cli {
namespace {

int run_decode(int argc, char** argv) {
  std::string in, out;
  po::options_description opts("options");
  opts.add_options()("input", po::value(&in)->required(), ".xfp file")(
      "output,o", po::value(&out)->required(), "output .safetensors (fp32, written atomically)");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv, "usage: lutc decode X.xfp -o Y.safetensors\n\nWrites the golden decode (docs/numerics.md) of every layer as fp32.",
                          opts, pos, vm))
    return 0;
  const XfpFile f = read_xfp(in);
  std::vector<std::vector<float>> data;
  std::vector<NamedMatrix> tensors;
  data.reserve(f.layers.size());
  for (const auto& l : f.layers) {
    data.emplace_back(size_t(l.rows) * l.cols);
    golden_decode(l, data.back().data());
    tensors.push_back({l.name, {l.rows, l.cols}, data.back().data()});
  }
  std::map<std::string, std::string> meta = {{"decoded_from", in}};
  write_safetensors(out, tensors, meta);
  std::printf("wrote %zu tensors to %s\n", tensors.size(), out.c_str());
  return 0;
}

const RegisterCommand kRegister({"decode", "golden-decode an .xfp to fp32 safetensors", run_decode});

}  // namespace
}  // namespace lutc::cli

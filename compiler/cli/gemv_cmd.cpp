// lutc gemv: the golden GEMV straight from the .xfp — the reference every
// engine must reproduce bit for bit.
#include <cstdio>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/compiler/arch_config.h"
#include "lutc/compiler/layer_luts.h"
#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "lutc/model/xfp_file.h"
#include "vectors_io.h"

namespace lutc::cli {
namespace {

int run_gemv(int argc, char** argv) {
  std::string in, arch_path, xpath, out, only;
  bool json = false;
  po::options_description opts("options");
  opts.add_options()("input", po::value(&in)->required(), ".xfp file")(
      "arch", po::value(&arch_path),
      "take act.bits and the HIF widths from this arch (default: lossless HIF, 16-bit activations)")(
      "layer", po::value(&only), "the layer (required when the file has several)")(
      "x", po::value(&xpath)->required(), "activations .npy: cols or batch x cols, float32, float64 or bf16 as uint16")(
      "output,o", po::value(&out)->required(), "output .npy (float32)")("json", po::bool_switch(&json),
                                                                        JsonStdout::kHelp);
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv,
                          "usage: lutc gemv X.xfp [--arch A.ini] [--layer NAME] --x x.npy -o y.npy [--json]\n\n"
                          "The golden GEMV (docs/numerics.md): integer activations, exact integer products,\n"
                          "order-independent wide accumulation, one rounding. With --arch the weights are the\n"
                          "HIF-rounded ones the arch's LUTs hold (identical to the golden decode when lossless).\n"
                          "--json prints {layer, rows, cols, batch, arch, files_written} on stdout (docs/reports.md).",
                          opts, pos, vm))
    return 0;
  check_output_file(out, "-o", {in, xpath, arch_path});
  JsonStdout json_out(json);
  const XfpFile f = read_xfp(in);
  const QuantizedLayer* layer = nullptr;
  for (const auto& l : f.layers)
    if (only.empty() ? f.layers.size() == 1 : l.name == only) layer = &l;
  if (!layer)
    throw Error(ExitCode::kUsage,
                only.empty() ? "'" + in + "' has " + std::to_string(f.layers.size()) + " layers: name one with --layer"
                             : "'" + in + "' has no layer named '" + only + "'");
  const NpyArray x = read_activations(xpath, layer->cols, layer->name);
  std::vector<float> y(size_t(x.rows()) * layer->rows);
  if (arch_path.empty())
    golden_gemv(*layer, x.data.data(), uint32_t(x.rows()), GemvConfig{}, y.data());
  else
    arch_golden_gemv(*layer, load_arch(arch_path), x.data.data(), uint32_t(x.rows()), y.data());
  write_outputs(out, x, layer->rows, y);
  std::printf("%s: %llu x %u outputs -> %s\n", layer->name.c_str(), (unsigned long long)x.rows(), layer->rows,
              out.c_str());
  json_out.emit({{"input", in},
                 {"layer", layer->name},
                 {"rows", layer->rows},
                 {"cols", layer->cols},
                 {"batch", x.rows()},
                 {"arch", arch_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(arch_path)},
                 {"files_written", nlohmann::json::array({out})}});
  return 0;
}

const RegisterCommand kRegister({"gemv", "golden GEMV of an .xfp layer (the reference for run)", run_gemv});

}  // namespace
}  // namespace lutc::cli

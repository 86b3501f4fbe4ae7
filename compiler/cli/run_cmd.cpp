// lutc run: executes a .lutp on activation vectors.
#include <cstdio>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/compiler/executor.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"
#include "vectors_io.h"

namespace lutc::cli {
namespace {

int run_run(int argc, char** argv) {
  std::string in, engine = "exec", xpath, out, arch_path;
  bool json = false;
  po::options_description opts("options");
  opts.add_options()("input", po::value(&in)->required(), ".lutp file")(
      "engine", po::value(&engine)->default_value("exec"), "exec: the functional executor")(
      "x", po::value(&xpath)->required(), "activations .npy: cols or batch x cols, float32, float64 or bf16 as uint16")(
      "output,o", po::value(&out)->required(), "output .npy (float32, rows or batch x rows)")(
      "arch", po::value(&arch_path), "refuse the program unless it was compiled for this arch")(
      "json", po::bool_switch(&json), JsonStdout::kHelp);
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv,
                          "usage: lutc run X.lutp --engine exec --x x.npy -o y.npy [--arch A.ini] [--json]\n\n"
                          "Runs the program; y is bit-identical to `lutc gemv` of the layer with the same arch.\n"
                          "--json prints {layer, rows, cols, batch, instructions, macs, dma_bytes,\n"
                          "lut_words_loaded, files_written} on stdout (docs/reports.md).",
                          opts, pos, vm))
    return 0;
  if (engine != "exec") throw Error(ExitCode::kUsage, "unknown engine '" + engine + "' (available: exec)");
  check_output_file(out, "-o", {in, xpath, arch_path});
  JsonStdout json_out(json);
  const Program p = arch_path.empty() ? read_lutp(in) : read_lutp(in, load_arch(arch_path));
  const NpyArray x = read_activations(xpath, p.meta.cols, p.meta.layer);
  std::vector<float> y(size_t(x.rows()) * p.meta.rows);
  ExecStats st;
  execute(p, x.data.data(), uint32_t(x.rows()), y.data(), &st);
  write_outputs(out, x, p.meta.rows, y);
  std::printf("%s: %llu instructions, %llu MACs, %llu DMA bytes, %llu LUT words loaded -> %s\n", p.meta.layer.c_str(),
              (unsigned long long)st.instructions, (unsigned long long)st.macs, (unsigned long long)st.dma_bytes,
              (unsigned long long)st.lut_words_loaded, out.c_str());
  json_out.emit({{"input", in},
                 {"layer", p.meta.layer},
                 {"engine", engine},
                 {"rows", p.meta.rows},
                 {"cols", p.meta.cols},
                 {"batch", x.rows()},
                 {"instructions", st.instructions},
                 {"macs", st.macs},
                 {"dma_bytes", st.dma_bytes},
                 {"lut_words_loaded", st.lut_words_loaded},
                 {"files_written", nlohmann::json::array({out})}});
  return 0;
}

const RegisterCommand kRegister({"run", "execute a .lutp program on activation vectors", run_run});

}  // namespace
}  // namespace lutc::cli

// lutc synth: writes the seeded synthetic LLM-shaped set as safetensors, so
// other tools can be run on exactly the matrices lutc's tables use.
#include <cstdio>

#include "cli_util.h"
#include "command.h"
#include "lutc/model/matrix_source.h"
#include "lutc/model/weights.h"

namespace lutc::cli {
namespace {

int run_synth(int argc, char** argv) {
  std::string out, spec;
  po::options_description opts("options");
  opts.add_options()("output,o", po::value(&out)->required(), "output .safetensors (fp32)")(
      "spec", po::value(&spec)->default_value("synth:default"), "synth:default | synth:NxK[,NxK...][@SEED]");
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_command_line(argc, argv, "usage: lutc synth -o OUT.safetensors [--spec synth:default]\n\nRow norms log-normal, Student-t elements, a few outlier columns and dead rows (docs/synth.md).",
                          opts, pos, vm))
    return 0;
  auto src = MatrixSource::open(spec.rfind("synth:", 0) == 0 ? spec : "synth:" + spec);
  std::vector<std::vector<float>> data;
  std::vector<NamedMatrix> tensors;
  data.reserve(src->matrices().size());
  for (const auto& m : src->matrices()) {
    data.push_back(src->load(m));
    tensors.push_back({m.name, {m.rows, m.cols}, data.back().data()});
  }
  write_safetensors(out, tensors, {{"generator", src->spec()}});
  std::printf("wrote %zu tensors to %s\n", tensors.size(), out.c_str());
  return 0;
}

const RegisterCommand kRegister({"synth", "write the seeded synthetic LLM-shaped weights as safetensors", run_synth});

}  // namespace
}  // namespace lutc::cli

// lutc synth: writes seeded synthetic weights. Without --model, the synthetic
// LLM-shaped matrix set as one safetensors file, so other tools can be run on
// exactly the matrices lutc's tables use. With --model, a whole Hugging Face
// checkpoint folder with a real model's tensor names and shapes, for
// full-size benchmarks (scripts/bench-full-size).
#include <cstdio>
#include <thread>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/cli/progress.h"
#include "lutc/model/error.h"
#include "lutc/model/matrix_source.h"
#include "lutc/model/model_shapes.h"
#include "lutc/model/synth_checkpoint.h"
#include "lutc/model/weights.h"

namespace lutc::cli {
namespace {

const char* kUsage =
    "usage: lutc synth -o OUT.safetensors [--spec synth:default]\n"
    "       lutc synth --model NAME -o DIR [--layers N] [--shards K] [--dtype bf16] [--seed S]\n\n"
    "The first form writes the synthetic matrix set (row norms log-normal, Student-t elements,\n"
    "a few outlier columns and dead rows; docs/synth.md) as fp32 safetensors.\n"
    "The second writes a Hugging Face model folder (config.json, safetensors shards and their\n"
    "index) with the exact tensor names and shapes of a real model, seeded, tensor by tensor\n"
    "in a few MB of memory. Model names: ";

std::string usage_text() {
  std::string s = kUsage;
  for (size_t i = 0; i < model_shapes().size(); ++i) s += (i ? ", " : "") + std::string(model_shapes()[i].name);
  return s + ".";
}

int write_model_folder(const std::string& out, const std::string& model, unsigned layers, unsigned shards,
                       const std::string& dtype, uint64_t seed, unsigned threads, bool quiet) {
  SynthCheckpointOptions o;
  o.dir = out;
  o.shape = &find_model_shape(model);
  o.layers = layers;
  o.shards = shards;
  o.seed = seed;
  o.threads = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
  if (dtype == "bf16")
    o.dtype = DType::kBF16;
  else if (dtype == "f16")
    o.dtype = DType::kF16;
  else if (dtype == "f32")
    o.dtype = DType::kF32;
  else
    throw Error(ExitCode::kUsage, "--dtype '" + dtype + "' is not one of bf16, f16, f32");
  if (layers > o.shape->layers)
    throw Error(ExitCode::kUsage, "--layers " + std::to_string(layers) + ": " + model + " has " +
                                      std::to_string(o.shape->layers) + " layers");
  const uint64_t total = model_weights(*o.shape, layers);
  uint64_t n = 0;
  {
    Progress progress("synth", total, !quiet);
    o.on_elements = [&](uint64_t e) {
      n += e;
      progress.start_item(model, e);
    };
    write_synth_checkpoint(o);
  }
  std::printf("wrote %s: %s, %u layers, %.3f G weights (%s), %u shard%s\n", out.c_str(), model.c_str(),
              layers ? layers : o.shape->layers, double(n) / 1e9, dtype.c_str(), shards, shards == 1 ? "" : "s");
  return 0;
}

int run_synth(int argc, char** argv) {
  std::string out, spec, model, dtype;
  unsigned layers = 0, shards = 1, threads = 0;
  uint64_t seed = 1;
  bool quiet = false, describe = false;
  po::options_description opts("options");
  opts.add_options()("output,o", po::value(&out), "output .safetensors (fp32), or a new folder with --model")(
      "spec", po::value(&spec)->default_value("synth:default"), "synth:default | synth:NxK[,NxK...][@SEED]")(
      "model", po::value(&model), "write a Hugging Face folder of this model's shapes")(
      "layers", po::value(&layers)->default_value(0), "with --model: only the first N layers (0 = all)")(
      "shards", po::value(&shards)->default_value(1), "with --model: safetensors shards (1..1000)")(
      "dtype", po::value(&dtype)->default_value("bf16"), "bf16|f16|f32: with --model, the element type")(
      "seed", po::value(&seed)->default_value(1), "with --model: the seed")(
      "threads,j", po::value(&threads)->default_value(0), "with --model: threads (0 = all cores; same bytes for any)")(
      "describe", po::bool_switch(&describe), "with --model: print the shape's sizes as JSON and write nothing")(
      "quiet,q", po::bool_switch(&quiet), "no progress bar");
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_command_line(argc, argv, usage_text(), opts, pos, vm)) return 0;
  if (vm.count("model") && describe) {
    const ModelShape& m = find_model_shape(model);
    const uint32_t n = layers ? std::min(layers, m.layers) : m.layers;
    const nlohmann::json j = {{"model", m.name},
                              {"layers", n},
                              {"all_layers", m.layers},
                              {"weights", model_weights(m, n)},
                              {"weights_all_layers", model_weights(m, 0)},
                              {"weights_per_layer", model_weights(m, 2) - model_weights(m, 1)}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  if (out.empty()) throw Error(ExitCode::kUsage, "-o is required (a file, or a new folder with --model)");
  if (vm.count("model"))
    check_output_folder(out, "-o", {});
  else
    check_output_file(out, "-o", {});
  if (vm.count("model")) {
    check_range("threads", threads, 0, 1024);
    return write_model_folder(out, model, layers, shards, dtype, seed, threads, quiet);
  }
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

const RegisterCommand kRegister({"synth", "write seeded synthetic weights: a matrix set, or a whole model folder",
                                 run_synth});

}  // namespace
}  // namespace lutc::cli

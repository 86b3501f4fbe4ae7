// lutc-vs-ggml quality: every chosen matrix of a safetensors file through
// ggml's quantizer and back through its dequantizer, written as fp32
// safetensors for `lutc eval --decoded` to score. A matrix whose K (columns)
// is not a multiple of the type's block size cannot be stored in that type; it
// is listed as not eligible and left out of the file.
#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>
#include <thread>

#include "vs_ggml.h"

namespace po = boost::program_options;

namespace vs_ggml {
namespace {

constexpr const char* kUsage =
    "usage: lutc-vs-ggml quality --type T --input W.safetensors -o D.safetensors [--tensors NAMES.txt]\n\n"
    "Quantizes each 2-D float tensor of W (or those named in NAMES.txt, one per line) with\n"
    "ggml_quantize_chunk (no importance matrix), dequantizes it with the type's to_float and\n"
    "writes the result as fp32 safetensors under the same names. Matrices whose K is not a\n"
    "multiple of the type's block are not eligible and are left out. Prints JSON: the type\n"
    "(block, bytes per block, bpw) and the eligible and ineligible tensors.";

std::vector<std::string> read_names(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Failure(4, "cannot open --tensors file '" + path + "'");
  std::vector<std::string> names;
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) names.push_back(line);
  if (names.empty()) usage_error("--tensors file '" + path + "' names no tensor");
  return names;
}

}  // namespace

int run_quality(int argc, char** argv) {
  std::string type_s, input, output, names_file;
  unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  po::options_description opts("options");
  opts.add_options()("type", po::value(&type_s)->required(), "ggml type (q4_0, q4_K, iq4_nl, mxfp4, nvfp4, q8_0, ...)")(
      "input", po::value(&input)->required(), "safetensors file of the original weights")(
      "output,o", po::value(&output)->required(), "fp32 safetensors of the dequantized weights (written atomically)")(
      "tensors", po::value(&names_file), "file of tensor names, one a line (default: every 2-D float tensor)")(
      "jobs,j", po::value(&jobs), "quantization threads")("help,h", "show this help");
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
  if (vm.count("help")) {
    std::cout << kUsage << "\n\n" << opts << "\n";
    return 0;
  }
  po::notify(vm);
  if (jobs < 1 || jobs > 256) usage_error("--jobs: 1..256");
  const TypeInfo t = find_type(type_s);
  const SafetensorsReader in(input);

  std::vector<const StTensor*> chosen;
  if (names_file.empty()) {
    for (const auto& st : in.tensors())
      if (st.shape.size() == 2 && (st.dtype == "F32" || st.dtype == "F16" || st.dtype == "BF16")) chosen.push_back(&st);
  } else {
    for (const auto& name : read_names(names_file)) {
      const StTensor* st = in.find(name);
      if (!st) throw Failure(3, "file '" + input + "' has no tensor '" + name + "' (named in " + names_file + ")");
      if (st->shape.size() != 2) throw Failure(3, "tensor '" + name + "' of '" + input + "' is not 2-D");
      chosen.push_back(st);
    }
  }

  nlohmann::json eligible = nlohmann::json::array(), ineligible = nlohmann::json::array();
  std::vector<F32Matrix> decoded;
  const auto* traits = ggml_get_type_traits(t.type);
  for (const StTensor* st : chosen) {
    const uint32_t rows = uint32_t(st->shape[0]), cols = uint32_t(st->shape[1]);
    nlohmann::json row = {{"name", st->name}, {"rows", rows}, {"cols", cols}};
    if (cols % t.block) {
      row["reason"] = "K = " + std::to_string(cols) + " is not a multiple of " + std::to_string(t.block);
      ineligible.push_back(row);
      continue;
    }
    const std::vector<float> w = in.read_f32(*st);
    const std::vector<uint8_t> q = quantize_matrix(t, w.data(), rows, cols, jobs);
    F32Matrix d{st->name, rows, cols, std::vector<float>(w.size())};
    traits->to_float(q.data(), d.data.data(), int64_t(w.size()));
    row["stored_bytes"] = q.size();
    eligible.push_back(row);
    decoded.push_back(std::move(d));
  }
  if (!decoded.empty())
    write_safetensors_f32(output, decoded,
                          {{"producer", "lutc-vs-ggml quality"},
                           {"ggml_type", t.name},
                           {"ggml_version", ggml_version()},
                           {"source", input}});
  nlohmann::json j = {{"type", type_json(t)},
                      {"input", input},
                      {"output", decoded.empty() ? nlohmann::json(nullptr) : nlohmann::json(output)},
                      {"eligible", eligible},
                      {"ineligible", ineligible}};
  std::cout << j.dump(2) << "\n";
  return 0;
}

}  // namespace vs_ggml

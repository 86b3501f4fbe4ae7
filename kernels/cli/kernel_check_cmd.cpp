// lutc kernel-check: the CPU kernels against the golden reference on a real
// .xfp, every layer, every instruction set this machine has — the parity step
// of the main job and what a user runs before trusting `lutc bench` numbers.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/kernels/cpu/accuracy.h"
#include "lutc/kernels/cpu/gemv.h"
#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "lutc/model/xfp_file.h"

namespace lutc::cli {
namespace {

constexpr const char* kUsage =
    "usage: lutc kernel-check X.xfp [--batch M] [--seed S] [--json]\n\n"
    "For every layer and every instruction set available here (avx512, avx2, portable):\n"
    "  decode  the exact kernel's decoded weights vs the golden decode, bit for bit;\n"
    "  exact   the exact GEMV vs the golden GEMV (16-bit activations), bit for bit;\n"
    "  f32/i8  the fast paths' NMSE against an fp64 product of the golden-decoded weights.\n"
    "Activations are seeded Gaussian vectors. Exits 70 on any bit mismatch.";

// One layer's packed form, seeded activations and the golden results every
// instruction set is checked against.
struct LayerReference {
  kernels::PackedLayer packed;
  size_t n = 0;                  // weights
  std::vector<float> want_w, x;  // golden decode; activations, vector after vector
  std::vector<float> want_y;     // golden GEMV
  std::vector<double> ref;       // fp64 reference of the fast paths
};

LayerReference layer_reference(const QuantizedLayer& layer, unsigned batch, const GemvConfig& cfg, std::mt19937_64& rng,
                               std::normal_distribution<float>& normal) {
  LayerReference r;
  r.packed = kernels::pack_layer(layer);
  r.n = size_t(layer.rows) * layer.cols;
  r.want_w.resize(r.n);
  r.x.resize(size_t(batch) * layer.cols);
  golden_decode(layer, r.want_w.data());
  for (auto& v : r.x) v = normal(rng);
  r.want_y.resize(size_t(batch) * layer.rows);
  golden_gemv_weights(r.want_w.data(), layer.rows, layer.cols, r.x.data(), batch, cfg, r.want_y.data());
  // fp64 reference of the fast paths: the golden weights times the activations.
  r.ref = kernels::fp64_reference(r.want_w, layer.rows, layer.cols, r.x, batch);
  return r;
}

// The kernels on one instruction set against the reference: exact decode
// and GEMV bit for bit (adding their mismatches), the fast paths' NMSE.
nlohmann::json check_isa(const QuantizedLayer& layer, const LayerReference& r, kernels::Isa isa, unsigned batch,
                         const GemvConfig& cfg, unsigned* mismatches) {
  kernels::RunOptions ro;
  ro.isa = isa;
  std::vector<float> got_w(r.n, NAN), got_y(r.want_y.size(), NAN);
  kernels::decode_exact(r.packed, 0, layer.rows, got_w.data(), ro);
  kernels::gemv_exact(r.packed, r.x.data(), batch, cfg, got_y.data(), ro);
  const bool dec_ok = std::memcmp(got_w.data(), r.want_w.data(), 4 * r.n) == 0;
  const bool gemv_ok = std::memcmp(got_y.data(), r.want_y.data(), 4 * got_y.size()) == 0;
  *mismatches += !dec_ok + !gemv_ok;
  nlohmann::json j = {{"layer", layer.name},
                      {"scheme", scheme_name(layer.scheme)},
                      {"isa", kernels::isa_name(isa)},
                      {"decode_bit_identical", dec_ok},
                      {"gemv_exact_bit_identical", gemv_ok}};
  std::vector<float> fast(r.want_y.size(), NAN);
  kernels::gemv_fast(kernels::Path::kF32, r.packed, r.x.data(), batch, fast.data(), ro);
  j["f32_nmse"] = kernels::fast_path_nmse(fast, r.ref);
  if (kernels::path_supports(kernels::Path::kI8, r.packed)) {
    std::fill(fast.begin(), fast.end(), NAN);
    kernels::gemv_fast(kernels::Path::kI8, r.packed, r.x.data(), batch, fast.data(), ro);
    j["i8_nmse"] = kernels::fast_path_nmse(fast, r.ref);
  }
  return j;
}

void print_check(const nlohmann::json& j) {
  const std::string layer = j["layer"];
  const double e32 = j["f32_nmse"];
  char i8[32] = "-";
  if (j.contains("i8_nmse") && !std::isnan(j["i8_nmse"].get<double>()))
    std::snprintf(i8, sizeof i8, "%.3e", j["i8_nmse"].get<double>());
  std::printf("%-44s %-9s %-8s %-8s %-8s %11.3e %11s\n", layer.substr(0, 44).c_str(),
              j["scheme"].get<std::string>().c_str(), j["isa"].get<std::string>().c_str(),
              j["decode_bit_identical"].get<bool>() ? "exact" : "MISMATCH",
              j["gemv_exact_bit_identical"].get<bool>() ? "exact" : "MISMATCH", e32, i8);
}

int run_kernel_check(int argc, char** argv) {
  std::string in;
  unsigned batch = 1;
  uint64_t seed = 1;
  bool json = false;
  po::options_description opts("options");
  opts.add_options()("input", po::value(&in)->required(), ".xfp file")("batch", po::value(&batch)->default_value(1),
                                                                       "activation vectors per GEMV (1..64)")(
      "seed", po::value(&seed)->default_value(1), "activation seed")("json", po::bool_switch(&json), "print JSON");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv, kUsage, opts, pos, vm)) return 0;
  check_range("batch", batch, 1, 64);

  const XfpFile f = read_xfp(in);
  nlohmann::json layers = nlohmann::json::array();
  unsigned mismatches = 0;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  if (!json)
    std::printf("%-44s %-9s %-8s %-8s %-8s %11s %11s\n", "layer", "scheme", "isa", "decode", "exact", "f32 NMSE",
                "i8 NMSE");
  const GemvConfig cfg;
  for (const auto& layer : f.layers) {
    const LayerReference r = layer_reference(layer, batch, cfg, rng, normal);
    for (kernels::Isa isa : {kernels::Isa::kAvx512, kernels::Isa::kAvx2, kernels::Isa::kPortable}) {
      if (!kernels::isa_available(isa)) continue;
      nlohmann::json j = check_isa(layer, r, isa, batch, cfg, &mismatches);
      if (!json) print_check(j);
      layers.push_back(std::move(j));
    }
  }
  if (json) {
    std::cout << nlohmann::json{{"file", in}, {"batch", batch}, {"mismatches", mismatches}, {"checks", layers}}.dump(2)
              << "\n";
  } else {
    std::printf("%s: %u mismatches over %zu layer x isa checks\n", in.c_str(), mismatches, layers.size());
  }
  if (mismatches)
    throw Error(ExitCode::kInternal,
                in + ": " + std::to_string(mismatches) + " kernel results differ from the golden reference");
  return 0;
}

const RegisterCommand kRegister({"kernel-check", "CPU kernels vs the golden decode/GEMV on an .xfp, every ISA level",
                                 run_kernel_check});

}  // namespace
}  // namespace lutc::cli

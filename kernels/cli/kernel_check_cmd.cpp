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
  for (const auto& layer : f.layers) {
    const kernels::PackedLayer packed = kernels::pack_layer(layer);
    const size_t n = size_t(layer.rows) * layer.cols;
    std::vector<float> want_w(n), x(size_t(batch) * layer.cols);
    golden_decode(layer, want_w.data());
    for (auto& v : x) v = normal(rng);
    GemvConfig cfg;
    std::vector<float> want_y(size_t(batch) * layer.rows);
    golden_gemv_weights(want_w.data(), layer.rows, layer.cols, x.data(), batch, cfg, want_y.data());
    // fp64 reference of the fast paths: the golden weights times the activations.
    const std::vector<double> ref = kernels::fp64_reference(want_w, layer.rows, layer.cols, x, batch);
    for (kernels::Isa isa : {kernels::Isa::kAvx512, kernels::Isa::kAvx2, kernels::Isa::kPortable}) {
      if (!kernels::isa_available(isa)) continue;
      kernels::RunOptions ro;
      ro.isa = isa;
      std::vector<float> got_w(n, NAN), got_y(want_y.size(), NAN);
      kernels::decode_exact(packed, 0, layer.rows, got_w.data(), ro);
      kernels::gemv_exact(packed, x.data(), batch, cfg, got_y.data(), ro);
      const bool dec_ok = std::memcmp(got_w.data(), want_w.data(), 4 * n) == 0;
      const bool gemv_ok = std::memcmp(got_y.data(), want_y.data(), 4 * got_y.size()) == 0;
      mismatches += !dec_ok + !gemv_ok;
      nlohmann::json j = {{"layer", layer.name},
                          {"scheme", scheme_name(layer.scheme)},
                          {"isa", kernels::isa_name(isa)},
                          {"decode_bit_identical", dec_ok},
                          {"gemv_exact_bit_identical", gemv_ok}};
      double e32 = NAN, e8 = NAN;
      std::vector<float> fast(want_y.size(), NAN);
      kernels::gemv_fast(kernels::Path::kF32, packed, x.data(), batch, fast.data(), ro);
      j["f32_nmse"] = e32 = kernels::fast_path_nmse(fast, ref);
      if (kernels::path_supports(kernels::Path::kI8, packed)) {
        std::fill(fast.begin(), fast.end(), NAN);
        kernels::gemv_fast(kernels::Path::kI8, packed, x.data(), batch, fast.data(), ro);
        j["i8_nmse"] = e8 = kernels::fast_path_nmse(fast, ref);
      }
      if (!json) {
        char i8[32] = "-";
        if (!std::isnan(e8)) std::snprintf(i8, sizeof i8, "%.3e", e8);
        std::printf("%-44s %-9s %-8s %-8s %-8s %11.3e %11s\n", layer.name.substr(0, 44).c_str(),
                    scheme_name(layer.scheme), kernels::isa_name(isa), dec_ok ? "exact" : "MISMATCH",
                    gemv_ok ? "exact" : "MISMATCH", e32, i8);
      }
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

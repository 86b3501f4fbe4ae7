// lutc gpu-check: the CUDA kernels against the golden reference on a real
// .xfp, every layer — decoded weights and exact-mode y bit for bit, fast-mode
// NMSE (fp16 and bf16 activations) against fp64. Mirrors `lutc kernel-check`.
// --emulate runs the kernels' own code on the CPU (emulate.h) where there is
// no GPU; --vs-emulation adds, on a GPU, a bit-for-bit comparison of the
// device's fast path with that emulation.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/kernels/cpu/accuracy.h"
#include "lutc/kernels/cuda/emulate.h"
#include "lutc/kernels/cuda/gpu.h"
#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "lutc/model/xfp_file.h"

namespace lutc::cli {
namespace {

namespace kc = kernels::cuda;

constexpr const char* kUsage =
    "usage: lutc gpu-check X.xfp [--batch M] [--seed S] [--json] [--emulate | --vs-emulation]\n\n"
    "For every layer, on the first CUDA device (--emulate: the kernels' code run on the CPU instead):\n"
    "  decode    the GPU's decoded weights vs the golden decode, bit for bit;\n"
    "  exact     the GPU exact GEMV vs the golden GEMV (16-bit activations), bit for bit;\n"
    "  f16/bf16  the fast GEMV's NMSE against an fp64 product of the golden-decoded weights\n"
    "            and the fp16- / bf16-rounded activations the kernel receives.\n"
    "  = emul    (--vs-emulation) the GPU fast GEMV vs its CPU emulation, bit for bit: the\n"
    "            device ran the kernel as designed. The emulation is scalar: slow on big layers.\n"
    "Activations are seeded Gaussian vectors; the fast path takes batches up to 16.\n"
    "Exits 70 on any bit mismatch or a fast-path NMSE above 1e-9, and 4 when no CUDA device is\n"
    "present (except with --emulate).\n\n"
    "Examples: lutc gpu-check model.xfp --batch 4\n"
    "          lutc gpu-check model.xfp --emulate        # no GPU needed";

// The kernels on the GPU or in their CPU emulation, behind one interface.
class Backend {
 public:
  Backend(const QuantizedLayer& l, bool emulate) : packed_(kernels::pack_layer(l)) {
    if (!emulate) dev_ = std::make_unique<kc::DeviceLayer>(packed_);
  }
  void decode(float* out) const { dev_ ? kc::gpu_decode(*dev_, out) : kc::emulate::decode(packed_, out); }
  void exact(const float* x, uint32_t batch, const GemvConfig& cfg, float* y) const {
    dev_ ? kc::gpu_gemv_exact(*dev_, x, batch, cfg, y) : kc::emulate::gemv_exact(packed_, x, batch, cfg, y);
  }
  void fast(const float* x, uint32_t batch, kc::ActType act, float* y) const {
    dev_ ? kc::gpu_gemv_fast(*dev_, x, batch, act, y) : kc::emulate::gemv_fast(packed_, x, batch, act, y);
  }
  const kernels::PackedLayer& packed() const { return packed_; }

 private:
  kernels::PackedLayer packed_;
  std::unique_ptr<kc::DeviceLayer> dev_;
};

constexpr double kFastNmseBound = 1e-9;  // fp32 sums; one wrong code in a row gives ~1e-4

// The fp64 product of the golden weights and the activations rounded as the kernel receives them.
std::vector<double> reference(const std::vector<float>& w, uint32_t rows, uint32_t cols, const std::vector<float>& x,
                              unsigned batch, kc::ActType act) {
  std::vector<float> xr(x.size());
  for (size_t i = 0; i < x.size(); ++i) xr[i] = kc::round_act(x[i], act);
  return kernels::fp64_reference(w, rows, cols, xr, batch);
}

// The fast GEMV's NMSE with act-rounded activations; with vs_emulation,
// clears *emul_ok when the backend's result differs from the CPU emulation.
double fast_nmse(const Backend& dev, const QuantizedLayer& layer, const std::vector<float>& want_w,
                 const std::vector<float>& x, unsigned batch, kc::ActType act, bool vs_emulation, bool* emul_ok) {
  std::vector<float> fast(size_t(batch) * layer.rows, NAN);
  dev.fast(x.data(), batch, act, fast.data());
  const double e = kernels::fast_path_nmse(fast, reference(want_w, layer.rows, layer.cols, x, batch, act));
  if (vs_emulation) {
    std::vector<float> emulated(fast.size(), NAN);
    kc::emulate::gemv_fast(dev.packed(), x.data(), batch, act, emulated.data());
    *emul_ok = *emul_ok && std::memcmp(emulated.data(), fast.data(), 4 * fast.size()) == 0;
  }
  return e;
}

// One layer on the GPU (or its emulation) against the golden reference, on
// seeded activations; adds its failed checks to *mismatches.
nlohmann::json check_layer(const QuantizedLayer& layer, bool emulate, bool vs_emulation, unsigned batch,
                           std::mt19937_64& rng, std::normal_distribution<float>& normal, unsigned* mismatches) {
  const Backend dev(layer, emulate);
  const size_t n = size_t(layer.rows) * layer.cols;
  std::vector<float> want_w(n), x(size_t(batch) * layer.cols);
  golden_decode(layer, want_w.data());
  for (auto& v : x) v = normal(rng);
  GemvConfig cfg;
  std::vector<float> want_y(size_t(batch) * layer.rows);
  golden_gemv_weights(want_w.data(), layer.rows, layer.cols, x.data(), batch, cfg, want_y.data());

  std::vector<float> got_w(n, NAN), got_y(want_y.size(), NAN);
  dev.decode(got_w.data());
  dev.exact(x.data(), batch, cfg, got_y.data());
  const bool dec_ok = std::memcmp(got_w.data(), want_w.data(), 4 * n) == 0;
  const bool gemv_ok = std::memcmp(got_y.data(), want_y.data(), 4 * got_y.size()) == 0;
  bool emul_ok = true;
  const double e16 = fast_nmse(dev, layer, want_w, x, batch, kc::ActType::kF16, vs_emulation, &emul_ok);
  const double e_bf16 = fast_nmse(dev, layer, want_w, x, batch, kc::ActType::kBf16, vs_emulation, &emul_ok);
  const bool fast_ok = e16 <= kFastNmseBound && e_bf16 <= kFastNmseBound;
  *mismatches += !dec_ok + !gemv_ok + !fast_ok + !emul_ok;
  nlohmann::json row{{"layer", layer.name},
                     {"scheme", scheme_name(layer.scheme)},
                     {"decode_bit_identical", dec_ok},
                     {"gemv_exact_bit_identical", gemv_ok},
                     {"f16_nmse", e16},
                     {"bf16_nmse", e_bf16},
                     {"fast_within_bound", fast_ok}};
  if (vs_emulation) row["fast_equals_emulation"] = emul_ok;
  return row;
}

void print_row(const nlohmann::json& row, bool vs_emulation) {
  const std::string layer = row["layer"];
  const bool fast_ok = row["fast_within_bound"];
  std::printf("%-44s %-9s %-8s %-8s %11.3e %11.3e%s%s\n", layer.substr(0, 44).c_str(),
              row["scheme"].get<std::string>().c_str(), row["decode_bit_identical"].get<bool>() ? "exact" : "MISMATCH",
              row["gemv_exact_bit_identical"].get<bool>() ? "exact" : "MISMATCH", row["f16_nmse"].get<double>(),
              row["bf16_nmse"].get<double>(),
              vs_emulation ? (row["fast_equals_emulation"].get<bool>() ? "  yes" : "  MISMATCH") : "",
              fast_ok ? "" : "  NMSE over bound");
}

int run_gpu_check(int argc, char** argv) {
  std::string in;
  unsigned batch = 1;
  uint64_t seed = 1;
  bool json = false, emulate = false, vs_emulation = false;
  po::options_description opts("options");
  opts.add_options()("input", po::value(&in)->required(), ".xfp file")("batch", po::value(&batch)->default_value(1),
                                                                       "activation vectors per GEMV (1..16)")(
      "seed", po::value(&seed)->default_value(1), "activation seed")("json", po::bool_switch(&json), "print JSON")(
      "emulate", po::bool_switch(&emulate), "run the kernels' code on the CPU instead of a GPU")(
      "vs-emulation", po::bool_switch(&vs_emulation),
      "on a GPU, also compare the fast GEMV with its CPU emulation bit for bit");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv, kUsage, opts, pos, vm)) return 0;
  check_range("batch", batch, 1, kc::kMaxFastBatch);
  if (emulate && vs_emulation)
    throw Error(ExitCode::kUsage, "gpu-check: --emulate and --vs-emulation exclude each other");
  if (!emulate && !kc::gpu_available())
    throw Error(ExitCode::kIo,
                "gpu-check: no CUDA device available (the CUDA runtime reports none); nothing was checked "
                "(--emulate runs the kernels' code on the CPU)");

  const XfpFile f = read_xfp(in);
  nlohmann::json layers = nlohmann::json::array();
  unsigned mismatches = 0;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  const std::string device = emulate ? "CPU emulation of the CUDA kernels" : kc::gpu_name();
  if (!json) {
    std::printf("device: %s\n", device.c_str());
    std::printf("%-44s %-9s %-8s %-8s %11s %11s%s\n", "layer", "scheme", "decode", "exact", "f16 NMSE", "bf16 NMSE",
                vs_emulation ? "  = emul" : "");
  }
  for (const auto& layer : f.layers) {
    layers.push_back(check_layer(layer, emulate, vs_emulation, batch, rng, normal, &mismatches));
    if (!json) print_row(layers.back(), vs_emulation);
  }
  if (json)
    std::cout << nlohmann::json{{"file", in},      {"device", device},         {"emulated", emulate},
                                {"batch", batch},  {"mismatches", mismatches}, {"fast_nmse_bound", kFastNmseBound},
                                {"checks", layers}}
                     .dump(2)
              << "\n";
  else
    std::printf("%s: %u mismatches over %zu layers\n", in.c_str(), mismatches, layers.size());
  if (mismatches)
    throw Error(ExitCode::kInternal, in + ": " + std::to_string(mismatches) +
                                         std::string(emulate ? " emulated" : " GPU") +
                                         " results differ from the golden reference");
  return 0;
}

const RegisterCommand kRegister({"gpu-check",
                                 "CUDA kernels vs the golden decode/GEMV on an .xfp (GPU, or --emulate on the CPU)",
                                 run_gpu_check});

}  // namespace
}  // namespace lutc::cli

// lutc gpu-bench: GPU GEMV throughput of the fast kernel on a .xfp file or a
// synthetic LLM-shaped matrix, next to a device-to-device copy and cuBLAS
// fp16 GEMV measured in the same run (`lutc bench` does the same on the CPU).
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "bench_layer.h"
#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/kernels/cuda/gpu.h"
#include "lutc/model/error.h"
#include "lutc/model/quantize.h"
#include "lutc/model/sop.h"
#include "lutc/model/synth.h"
#include "lutc/model/xfp_file.h"

namespace lutc::cli {
namespace {

namespace kc = kernels::cuda;

constexpr const char* kUsage =
    "usage: lutc gpu-bench (X.xfp | --synthetic NxK) [options]\n"
    "       lutc bench --gpu (X.xfp | --synthetic NxK) [options]    (the same command)\n\n"
    "Times the fused CUDA decode-GEMV (fast path, fp32 accumulation) and prints per layer: time per\n"
    "GEMV, GB/s of packed weight bytes read, the bandwidth of a device-to-device cudaMemcpy measured\n"
    "in the same run ((read + written bytes) / time) and the kernel's % of it, and the speedup over\n"
    "cuBLAS fp16 GEMV (cublasGemmEx, fp16 weights and activations, fp32 compute) on the same shape.\n"
    "Every measurement rotates over enough copies to exceed the L2 cache.\n"
    "Exits 4 when no CUDA device is present. scripts/gpu-bench.sh runs the standard shapes.\n\n"
    "Example: lutc gpu-bench --synthetic 11008x4096 --batch 4";

// The synthetic layer, or every layer of the .xfp.
std::vector<QuantizedLayer> layers_to_bench(const std::string& xfp, const std::string& shape,
                                            const std::string& scheme_s, unsigned bits, unsigned group,
                                            const std::string& sop_format) {
  std::vector<QuantizedLayer> layers;
  if (!shape.empty()) {
    Scheme scheme;
    if (!parse_scheme(scheme_s, &scheme))
      throw Error(ExitCode::kUsage, "--scheme: '" + scheme_s + "' (" + scheme_names() + ")");
    layers.push_back(synthetic_bench_layer(shape, scheme, bits, group, sop_format));
  } else {
    layers = read_xfp(xfp).layers;
  }
  return layers;
}

// One layer timed on the device against its copy bandwidth and cuBLAS.
nlohmann::json bench_row(const QuantizedLayer& l, unsigned batch, kc::ActType act, unsigned repeat,
                         const std::string& device) {
  const kernels::PackedLayer p = kernels::pack_layer(l);
  const kc::GpuBenchResult b = kc::gpu_bench(p, batch, act, repeat);
  const double gbps = double(b.streamed_bytes) / b.kernel_s / 1e9;
  nlohmann::json j = {{"layer", l.name},
                      {"scheme", scheme_name(l.scheme)},
                      {"rows", l.rows},
                      {"cols", l.cols},
                      {"bpw", effective_bpw(l)},  // every stored bit, as info and quantize report it
                      {"stream_bpw", 8.0 * double(b.streamed_bytes) / double(l.elements())},
                      {"batch", batch},
                      {"act", kc::act_type_name(act)},
                      {"copies", b.copies},
                      {"time_s", b.kernel_s},
                      {"gb_per_s", gbps},
                      {"copy_gb_per_s", b.copy_gbps},
                      {"pct_of_copy_bw", 100.0 * gbps / b.copy_gbps},
                      {"cublas_fp16_time_s", b.cublas_s},
                      {"speedup_vs_cublas_fp16", b.cublas_s / b.kernel_s},
                      {"device", device}};
  return j;
}

void print_row(const nlohmann::json& j) {
  const std::string layer = j["layer"];
  std::printf("%-28s %-9s %5.2f %5u %-4s %9.2f %8.1f %9.1f %6.1f%% %10.2f %8.2f\n", layer.substr(0, 28).c_str(),
              j["scheme"].get<std::string>().c_str(), j["bpw"].get<double>(), j["batch"].get<unsigned>(),
              j["act"].get<std::string>().c_str(), 1e6 * j["time_s"].get<double>(), j["gb_per_s"].get<double>(),
              j["copy_gb_per_s"].get<double>(), j["pct_of_copy_bw"].get<double>(),
              1e6 * j["cublas_fp16_time_s"].get<double>(), j["speedup_vs_cublas_fp16"].get<double>());
}

int run_gpu_bench(int argc, char** argv) {
  std::string xfp, shape, scheme_s, sop_format, act_s;
  unsigned bits = 4, group = 128, batch = 1, repeat = 10;
  bool json = false;
  po::options_description opts("options");
  opts.add_options()("input", po::value(&xfp), ".xfp file: benchmark every layer")(
      "synthetic", po::value(&shape), "benchmark a seeded synthetic NxK matrix (N rows = outputs, K inputs)")(
      "scheme", po::value(&scheme_s)->default_value("int4.g128"), "with --synthetic: scheme to quantize to")(
      "sop-format", po::value(&sop_format), "with --synthetic --scheme sop: block format (docs/sop.md)")(
      "bits", po::value(&bits)->default_value(4), "with --synthetic and an xfp scheme: code width")(
      "group", po::value(&group)->default_value(128), "with --synthetic and xfp.v2: group along K (0 = whole row)")(
      "batch", po::value(&batch)->default_value(1), "activation vectors per call (1..16)")(
      "act", po::value(&act_s)->default_value("f16"), "f16|bf16: activation type")(
      "repeat", po::value(&repeat)->default_value(10), "timed rounds; the best is reported")(
      "json", po::bool_switch(&json), "print JSON instead of a table");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv, kUsage, opts, pos, vm)) return 0;
  if (xfp.empty() == shape.empty()) throw Error(ExitCode::kUsage, "give exactly one of X.xfp or --synthetic NxK");
  check_range("batch", batch, 1, kc::kMaxFastBatch);
  check_range("repeat", repeat, 1, 1000);
  if (act_s != "f16" && act_s != "bf16") throw Error(ExitCode::kUsage, "--act: f16 or bf16");
  const kc::ActType act = act_s == "f16" ? kc::ActType::kF16 : kc::ActType::kBf16;
  if (!kc::gpu_available())
    throw Error(ExitCode::kIo,
                "gpu-bench: no CUDA device available (the CUDA runtime reports none); nothing was measured");

  const std::vector<QuantizedLayer> layers = layers_to_bench(xfp, shape, scheme_s, bits, group, sop_format);
  const std::string device = kc::gpu_name();
  nlohmann::json all = nlohmann::json::array();
  if (!json) {
    std::printf("device: %s\n", device.c_str());
    std::printf("%-28s %-9s %5s %5s %-4s %9s %8s %9s %7s %10s %8s\n", "layer", "scheme", "bpw", "batch", "act",
                "time_us", "GB/s", "copyGB/s", "%copy", "cublas_us", "xcuBLAS");
  }
  for (const auto& l : layers) {
    all.push_back(bench_row(l, batch, act, repeat, device));
    if (!json) print_row(all.back());
  }
  if (json) std::printf("%s\n", all.dump(2).c_str());
  return 0;
}

const RegisterCommand kRegister({"gpu-bench",
                                 "CUDA decode-GEMV throughput vs copy bandwidth and cuBLAS fp16 (needs a GPU)",
                                 run_gpu_bench});

}  // namespace
}  // namespace lutc::cli

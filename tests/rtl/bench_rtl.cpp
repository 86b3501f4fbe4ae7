// Verilated engine speed: simulated cycles per second on a 512 x 2048 layer
// compiled for the verilated structure (examples/arch/edge.ini), per scheme,
// and the SystemC model's speed on the same program (`lutc sim` in a child
// process, one elaboration per process; its time includes process start),
// reported as the ratio SystemC cycles/s / RTL cycles/s.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <random>

#include "compiler_test_layers.h"
#include "lutc/compiler/arch_config.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/npy.h"
#include "lutc/rtl/rtl_engine.h"
#include "test_data.h"

namespace lutc {
namespace {

void BM_RtlCycles(benchmark::State& st, Scheme scheme) {
  std::mt19937_64 rng(7);
  const uint32_t rows = 512, cols = 2048;
  const std::vector<float> w = testing::random_weights(rows, cols, rng);
  const QuantizedLayer l = testing::quantize_for_test(scheme, "bench", w.data(), rows, cols, 128);
  const Program p = compile_layer(l, load_arch(LUTC_EXAMPLES_ARCH "/edge.ini"));
  std::vector<float> x(cols), y(rows);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (auto& v : x) v = n(rng);
  uint64_t cycles = 0;
  double rtl_s = 0;
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    cycles = rtl::run_rtl(p, x.data(), 1, y.data()).stats.cycles;
    rtl_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const double rtl_rate = double(cycles) * double(st.iterations()) / rtl_s;
  st.counters["rtl_cycles"] = double(cycles);
  st.counters["rtl_cycles_per_s"] = rtl_rate;

  const std::string dir = testing::temp_dir();
  write_lutp(dir + "/b.lutp", p);
  write_npy(dir + "/x.npy", {cols}, x.data());
  const std::string cmd = std::string(LUTC_EXE) + " sim '" + dir + "/b.lutp' --x '" + dir + "/x.npy' > /dev/null";
  const auto t0 = std::chrono::steady_clock::now();
  if (std::system(cmd.c_str()) != 0) st.SkipWithError("lutc sim failed");
  const double sim_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  st.counters["systemc_cycles_per_s"] = double(cycles) / sim_s;
  st.counters["systemc_over_rtl_speed"] = (double(cycles) / sim_s) / rtl_rate;
}

BENCHMARK_CAPTURE(BM_RtlCycles, nf4_b64, Scheme::kNf4B64)->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK_CAPTURE(BM_RtlCycles, xfp_v2_g128, Scheme::kXfpV2)->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK_CAPTURE(BM_RtlCycles, int4_g128, Scheme::kInt4G128)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace
}  // namespace lutc

BENCHMARK_MAIN();

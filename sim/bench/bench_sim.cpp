// Simulator speed (not a ctest): simulated cycles per wall second on an
// 11008x4096 layer, and the wall time of a 7B-class decode step (32 layers of
// q/k/v/o 4096x4096, gate/up 11008x4096, down 4096x11008). Quantizing 6.5 G
// weights would take far longer than simulating them, so the step reuses
// three compiled programs (one per shape) for all 224 layers: the model runs
// every layer in full, only the weights repeat.
//   lutc_bench_sim layer      functional run (y computed) and its cycles/s
//   lutc_bench_sim layer-timing
//   lutc_bench_sim step       timing-only decode step
// One mode per process: SystemC elaborates once.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "lutc/compiler/compile_layer.h"
#include "lutc/model/quantize.h"
#include "lutc/sim/simulate.h"

namespace {

using namespace lutc;

std::shared_ptr<const Program> synthetic_program(uint32_t rows, uint32_t cols, const ArchConfig& arch, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, 0.02f);
  std::vector<float> w(size_t(rows) * cols);
  for (auto& v : w) v = n(rng);
  const QuantizedLayer l = quantize_baseline(Scheme::kInt4G128, "synth", Role::kOther, w.data(), rows, cols);
  return std::make_shared<const Program>(compile_layer(l, arch));
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "layer";
  const ArchConfig arch = default_arch();
  sim::SimJob job;
  job.arch = arch;
  if (mode == "layer" || mode == "layer-timing") {
    auto p = synthetic_program(11008, 4096, arch, 1);
    sim::SimLayer l;
    l.load = [p] { return p; };
    if (mode == "layer") {
      std::mt19937_64 rng(2);
      std::normal_distribution<float> n(0.0f, 1.0f);
      l.x.resize(4096);
      for (auto& v : l.x) v = n(rng);
    }
    job.layers.push_back(l);
  } else if (mode == "step") {
    auto attn = synthetic_program(4096, 4096, arch, 1), up = synthetic_program(11008, 4096, arch, 2),
         down = synthetic_program(4096, 11008, arch, 3);
    for (int b = 0; b < 32; ++b)
      for (const auto& p : {attn, attn, attn, attn, up, up, down}) {
        sim::SimLayer l;
        l.load = [p] { return p; };
        job.layers.push_back(l);
      }
  } else {
    std::fprintf(stderr, "usage: lutc_bench_sim layer | layer-timing | step\n");
    return 2;
  }
  const size_t layers = job.layers.size();
  sim::SimResult r;
  const auto t0 = std::chrono::steady_clock::now();
  sim::run_in_systemc([&] {
    r = sim::simulate(std::move(job));
    return 0;
  });
  const double wall = seconds_since(t0);
  std::printf("%s: %zu layer(s), %llu simulated cycles (bottleneck %s), %.3f s wall, %.1f M cycles/s\n", mode.c_str(),
              layers, (unsigned long long)r.total.cycles, r.total.bottleneck.c_str(), wall,
              double(r.total.cycles) / wall * 1e-6);
  return 0;
}

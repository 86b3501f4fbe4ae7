// Quantize throughput (weights/s, one thread) on a seeded 4096x4096
// LLM-shaped matrix: XFP fixed and auto-select configurations, with the
// int4.g128 RTN quantizer measured in the same run as the baseline; each XFP
// case prints its speed as a ratio to it (vs_int4_g128).
#include <benchmark/benchmark.h>

#include <chrono>
#include <vector>

#include "lutc/model/quantize.h"
#include "lutc/model/synth.h"

namespace {

constexpr uint32_t kRows = 4096, kCols = 4096;

const std::vector<float>& matrix() {
  static const std::vector<float> w = [] {
    lutc::SynthSpec s;
    s.rows = kRows;
    s.cols = kCols;
    s.seed = 20240611;
    return lutc::synth_matrix(s);
  }();
  return w;
}

double seconds_of(void (*fn)()) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void run_baseline() {
  auto l =
      lutc::quantize_baseline(lutc::Scheme::kInt4G128, "bench", lutc::Role::kAttention, matrix().data(), kRows, kCols);
  benchmark::DoNotOptimize(l.indices.data());
}

// Best of three, measured once per process.
double baseline_weights_per_s() {
  static const double v = [] {
    double best = 1e30;
    for (int i = 0; i < 3; ++i) best = std::min(best, seconds_of(run_baseline));
    return double(kRows) * kCols / best;
  }();
  return v;
}

void report(benchmark::State& state, double seconds_total) {
  const double per_s = double(state.iterations()) * kRows * kCols / seconds_total;
  state.SetItemsProcessed(int64_t(state.iterations()) * kRows * kCols);
  state.counters["vs_int4_g128"] = per_s / baseline_weights_per_s();
}

void xfp_case(benchmark::State& state, lutc::Scheme mode, unsigned bits, bool auto_mode = false) {
  const auto& w = matrix();
  baseline_weights_per_s();
  lutc::XfpOptions o;
  o.mode = mode;
  o.auto_mode = auto_mode;
  o.bits = bits;
  o.threads = 1;
  lutc::XfpChoice ch;
  double total = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto l = lutc::quantize_xfp("bench", lutc::Role::kAttention, w.data(), kRows, kCols, o, &ch);
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(l.indices.data());
  }
  report(state, total);
  state.counters["bits"] = ch.bits;
  state.counters["outlier_pct"] = 100 * ch.outlier_fraction;
  state.counters["configs"] = ch.configs_tried;
  state.counters["chose_v2a"] = ch.mode == lutc::Scheme::kXfpV2a;
}

void BM_Int4G128Baseline(benchmark::State& state) {
  matrix();
  double total = 0;
  for (auto _ : state) total += seconds_of(run_baseline);
  report(state, total);
}
void BM_XfpV2Fixed4(benchmark::State& s) { xfp_case(s, lutc::Scheme::kXfpV2, 4); }
void BM_XfpV2aFixed4(benchmark::State& s) { xfp_case(s, lutc::Scheme::kXfpV2a, 4); }
void BM_XfpV2Auto(benchmark::State& s) { xfp_case(s, lutc::Scheme::kXfpV2, 0); }
void BM_XfpV2aAuto(benchmark::State& s) { xfp_case(s, lutc::Scheme::kXfpV2a, 0); }
// auto_mode: v2 or v2a per layer, whichever stores fewer bits.
void BM_XfpAutoMode(benchmark::State& s) { xfp_case(s, lutc::Scheme::kXfpV2, 0, true); }

BENCHMARK(BM_Int4G128Baseline)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_XfpV2Fixed4)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_XfpV2aFixed4)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_XfpV2Auto)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_XfpV2aAuto)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_XfpAutoMode)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();

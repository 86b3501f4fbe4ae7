// SOP quantize throughput (weights/s, one thread) on a seeded 4096x4096
// LLM-shaped matrix: a fixed format (e2m3.ue4m4.b16), a fixed pair with a
// learned DD4 (pair(nf4,dd4).ue4m3.b16) and the full pair search
// (pair(auto).ue4m3.b16: 21 pairs scored on 256 rows, then the winner on all
// rows). int4.g128 RTN is measured in the same run as the baseline and each
// case prints its speed as a ratio to it (vs_int4_g128).
#include <benchmark/benchmark.h>

#include <chrono>
#include <vector>

#include "lutc/model/quantize.h"
#include "lutc/model/sop.h"
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

double int4_seconds() {
  const auto t0 = std::chrono::steady_clock::now();
  auto l = lutc::quantize_baseline(lutc::Scheme::kInt4G128, "bench", lutc::Role::kAttention, matrix().data(),
                                   kRows, kCols);
  benchmark::DoNotOptimize(l.indices.data());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Best of three, measured once per process.
double baseline_weights_per_s() {
  static const double v = [] {
    double best = 1e30;
    for (int i = 0; i < 3; ++i) best = std::min(best, int4_seconds());
    return double(kRows) * kCols / best;
  }();
  return v;
}

void BM_Int4G128Baseline(benchmark::State& state) {
  matrix();
  double total = 0;
  for (auto _ : state) total += int4_seconds();
  state.SetItemsProcessed(int64_t(state.iterations()) * kRows * kCols);
  state.counters["weights_per_s"] = double(state.iterations()) * kRows * kCols / total;
}

void sop_case(benchmark::State& state, const char* format) {
  const auto& w = matrix();
  const double base = baseline_weights_per_s();
  lutc::SopOptions o;
  o.format = lutc::parse_sop_format(format);
  lutc::SopChoice ch;
  double total = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto l = lutc::quantize_sop("bench", lutc::Role::kAttention, w.data(), kRows, kCols, o, &ch);
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(l.indices.data());
  }
  const double per_s = double(state.iterations()) * kRows * kCols / total;
  state.SetItemsProcessed(int64_t(state.iterations()) * kRows * kCols);
  state.counters["weights_per_s"] = per_s;
  state.counters["vs_int4_g128"] = per_s / base;
  state.counters["configs"] = ch.configs_tried;
  state.SetLabel(ch.format.name());
}

void BM_SopFixedE2m3(benchmark::State& s) { sop_case(s, "e2m3.ue4m4.b16"); }
void BM_SopPairNf4Dd4(benchmark::State& s) { sop_case(s, "pair(nf4,dd4).ue4m3.b16"); }
void BM_SopPairSearch(benchmark::State& s) { sop_case(s, "pair(auto).ue4m3.b16"); }

BENCHMARK(BM_Int4G128Baseline)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_SopFixedE2m3)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SopPairNf4Dd4)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SopPairSearch)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

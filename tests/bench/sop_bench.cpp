// SOP quantize throughput (weights/s, one thread) on a seeded 4096x4096
// LLM-shaped matrix: fixed formats (e2m3.ue4m4.b16, e2m1.ue4m3.b16,
// nf4.ue4m2.b8, int4.sue4m4.b64+o0.5, and e2m3.ue4m4.b16 weighted by
// activation statistics), fixed pairs with a learned DD4
// (pair(nf4,dd4).ue4m3.b16, pair(nf4,dd4).sue4m4.b16+o1) and the full pair
// search (pair(auto).ue4m3.b16: 21 pairs scored on 256 rows, then the winner
// on all rows). int4.g128 RTN is measured in the same run as the baseline and
// each case prints its speed as a ratio to it, by wall clock (vs_int4_g128)
// and by CPU time (cpu_vs_int4_g128, steadier on a shared machine).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <ctime>
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

// Seeded E[x^2] per column for the activation-weighted case: log-normal, a few zeros.
const std::vector<double>& act_stats() {
  static const std::vector<double> a = [] {
    std::vector<double> v(kCols);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (auto& x : v) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      const double u = double(s >> 11) / 9007199254740992.0;
      x = u < 0.02 ? 0.0 : std::exp(3 * (u - 0.5));
    }
    return v;
  }();
  return a;
}

// Wall-clock and CPU seconds (std::clock: this process; the quantizers run on
// one thread). On a loaded machine the CPU rate is the steadier one.
struct Seconds {
  double wall = 0, cpu = 0;
};

template <class F>
Seconds time_of(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t c0 = std::clock();
  f();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
          double(std::clock() - c0) / CLOCKS_PER_SEC};
}

Seconds int4_seconds() {
  return time_of([] {
    auto l = lutc::quantize_baseline(lutc::Scheme::kInt4G128, "bench", lutc::Role::kAttention, matrix().data(), kRows,
                                     kCols);
    benchmark::DoNotOptimize(l.indices.data());
  });
}

// Best of three (wall and CPU each), measured once per process: weights/s.
Seconds baseline_weights_per_s() {
  static const Seconds v = [] {
    Seconds best{1e30, 1e30};
    for (int i = 0; i < 3; ++i) {
      const Seconds t = int4_seconds();
      best.wall = std::min(best.wall, t.wall);
      best.cpu = std::min(best.cpu, t.cpu);
    }
    return Seconds{double(kRows) * kCols / best.wall, double(kRows) * kCols / best.cpu};
  }();
  return v;
}

void BM_Int4G128Baseline(benchmark::State& state) {
  matrix();
  Seconds total;
  for (auto _ : state) {
    const Seconds t = int4_seconds();
    total.wall += t.wall;
    total.cpu += t.cpu;
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * kRows * kCols);
  state.counters["weights_per_s"] = double(state.iterations()) * kRows * kCols / total.wall;
  state.counters["cpu_weights_per_s"] = double(state.iterations()) * kRows * kCols / total.cpu;
}

void sop_case(benchmark::State& state, const char* format, bool with_act = false) {
  const auto& w = matrix();
  const Seconds base = baseline_weights_per_s();
  lutc::SopOptions o;
  o.format = lutc::parse_sop_format(format);
  if (with_act) o.act = &act_stats();
  lutc::SopChoice ch;
  Seconds total;
  for (auto _ : state) {
    const Seconds t = time_of([&] {
      auto l = lutc::quantize_sop("bench", lutc::Role::kAttention, w.data(), kRows, kCols, o, &ch);
      benchmark::DoNotOptimize(l.indices.data());
    });
    total.wall += t.wall;
    total.cpu += t.cpu;
  }
  const double n = double(state.iterations()) * kRows * kCols;
  state.SetItemsProcessed(int64_t(n));
  state.counters["weights_per_s"] = n / total.wall;
  state.counters["vs_int4_g128"] = n / total.wall / base.wall;
  state.counters["cpu_weights_per_s"] = n / total.cpu;
  state.counters["cpu_vs_int4_g128"] = n / total.cpu / base.cpu;
  state.counters["configs"] = ch.configs_tried;
  state.SetLabel(ch.format.name());
}

void BM_SopFixedE2m3(benchmark::State& s) { sop_case(s, "e2m3.ue4m4.b16"); }
void BM_SopFixedE2m3Act(benchmark::State& s) { sop_case(s, "e2m3.ue4m4.b16", true); }
void BM_SopFixedE2m1(benchmark::State& s) { sop_case(s, "e2m1.ue4m3.b16"); }
void BM_SopFixedNf4B8(benchmark::State& s) { sop_case(s, "nf4.ue4m2.b8"); }
void BM_SopSignedInt4B64(benchmark::State& s) { sop_case(s, "int4.sue4m4.b64+o0.5"); }
void BM_SopPairNf4Dd4(benchmark::State& s) { sop_case(s, "pair(nf4,dd4).ue4m3.b16"); }
void BM_SopSignedPairNf4Dd4(benchmark::State& s) { sop_case(s, "pair(nf4,dd4).sue4m4.b16+o1"); }
void BM_SopPairSearch(benchmark::State& s) { sop_case(s, "pair(auto).ue4m3.b16"); }

BENCHMARK(BM_Int4G128Baseline)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_SopFixedE2m3)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SopFixedE2m3Act)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SopFixedE2m1)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SopFixedNf4B8)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SopSignedInt4B64)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SopPairNf4Dd4)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SopSignedPairNf4Dd4)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_SopPairSearch)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

// Fixed-width XFP against the int4.g128 RTN baseline, one thread, in the same
// run: xfp.v2 at 4 bits (whole-row codebooks, no outlier search) on seeded
// 4096x4096 and 11008x4096 LLM-shaped matrices. Each case is the best of three
// runs and reports M weights per second of the quantizing thread's CPU time
// (what one core delivers, even when other work shares the machine), the same
// per wall-clock second, and for xfp the ratio xfp / int4 on the same shape.
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <vector>

#include "lutc/model/quantize.h"
#include "lutc/model/synth.h"

namespace {

const std::vector<float>& matrix(uint32_t rows, uint32_t cols) {
  static std::map<std::pair<uint32_t, uint32_t>, std::vector<float>> cache;
  auto& w = cache[{rows, cols}];
  if (w.empty()) {
    lutc::SynthSpec s;
    s.rows = rows;
    s.cols = cols;
    s.seed = 20240611;
    w = lutc::synth_matrix(s);
  }
  return w;
}

double thread_cpu_s() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

struct Times {
  double cpu = 1e30, wall = 1e30;
};

template <class Fn>
Times best_of_three(Fn fn) {
  Times best;
  for (int i = 0; i < 3; ++i) {
    const double c0 = thread_cpu_s();
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    best.wall = std::min(best.wall, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    best.cpu = std::min(best.cpu, thread_cpu_s() - c0);
  }
  return best;
}

Times int4_times(uint32_t rows, uint32_t cols) {
  const auto& w = matrix(rows, cols);
  return best_of_three([&] {
    auto l = lutc::quantize_baseline(lutc::Scheme::kInt4G128, "bench", lutc::Role::kAttention, w.data(), rows, cols);
    benchmark::DoNotOptimize(l.indices.data());
  });
}

// Measured once per shape and shared by both cases of that shape.
const Times& baseline(uint32_t rows, uint32_t cols) {
  static std::map<std::pair<uint32_t, uint32_t>, Times> cache;
  auto it = cache.find({rows, cols});
  if (it == cache.end()) it = cache.emplace(std::make_pair(rows, cols), int4_times(rows, cols)).first;
  return it->second;
}

void report(benchmark::State& state, uint32_t rows, uint32_t cols, const Times& t) {
  const double n = double(rows) * cols;
  state.SetIterationTime(t.wall);
  state.counters["Mw_per_s_cpu"] = n / t.cpu / 1e6;
  state.counters["Mw_per_s_wall"] = n / t.wall / 1e6;
}

void BM_Int4G128(benchmark::State& state) {
  const uint32_t rows = uint32_t(state.range(0)), cols = uint32_t(state.range(1));
  for (auto _ : state) report(state, rows, cols, baseline(rows, cols));
}

void BM_XfpV2Bits4(benchmark::State& state) {
  const uint32_t rows = uint32_t(state.range(0)), cols = uint32_t(state.range(1));
  const auto& w = matrix(rows, cols);
  const Times& base = baseline(rows, cols);
  lutc::XfpOptions o;
  o.mode = lutc::Scheme::kXfpV2;
  o.bits = 4;
  o.threads = 1;
  for (auto _ : state) {
    const Times t = best_of_three([&] {
      auto l = lutc::quantize_xfp("bench", lutc::Role::kAttention, w.data(), rows, cols, o);
      benchmark::DoNotOptimize(l.indices.data());
    });
    report(state, rows, cols, t);
    state.counters["xfp_over_int4_cpu"] = base.cpu / t.cpu;
  }
}

BENCHMARK(BM_Int4G128)
    ->Args({4096, 4096})
    ->Args({11008, 4096})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_XfpV2Bits4)
    ->Args({4096, 4096})
    ->Args({11008, 4096})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

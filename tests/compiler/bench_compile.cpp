// Compile time and program size of an 11008 x 4096 (LLaMA-7B MLP) layer per
// scheme with the default arch (sop in kSopTestFormat). Quantization is setup, not timed. Program
// bytes and the ratio to the layer's .xfp record are reported as counters.
#include <benchmark/benchmark.h>

#include <map>
#include <random>

#include "compiler_test_layers.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/xfp_file.h"

namespace {

constexpr uint32_t kRows = 11008, kCols = 4096;

const lutc::QuantizedLayer& layer_for(lutc::Scheme s) {
  static std::map<lutc::Scheme, lutc::QuantizedLayer> cache;
  auto it = cache.find(s);
  if (it != cache.end()) return it->second;
  std::mt19937_64 rng(1234);
  const std::vector<float> w = lutc::testing::random_weights(kRows, kCols, rng);
  return cache[s] = lutc::testing::quantize_for_test(s, "mlp.w1", w.data(), kRows, kCols, 128);
}

void BM_Compile(benchmark::State& st) {
  const auto scheme = lutc::Scheme(st.range(0));
  const lutc::QuantizedLayer& l = layer_for(scheme);
  const lutc::ArchConfig arch = lutc::default_arch();
  size_t bytes = 0;
  for (auto _ : st) {
    const lutc::Program p = lutc::compile_layer(l, arch);
    bytes = lutc::serialize_lutp(p).size();
    benchmark::DoNotOptimize(bytes);
  }
  st.SetLabel(lutc::scheme_name(scheme));
  st.counters["program_bytes"] = double(bytes);
  st.counters["xfp_bytes"] = double(lutc::stored_bits(l) / 8);
  st.counters["program_per_xfp"] = double(bytes) / double(lutc::stored_bits(l) / 8);
  st.counters["weights_per_s"] =
      benchmark::Counter(double(l.elements()), benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_Compile)
    ->Arg(int(lutc::Scheme::kXfpV2))
    ->Arg(int(lutc::Scheme::kXfpV2a))
    ->Arg(int(lutc::Scheme::kInt4G128))
    ->Arg(int(lutc::Scheme::kNf4B64))
    ->Arg(int(lutc::Scheme::kFp8E4M3))
    ->Arg(int(lutc::Scheme::kSop))  // kSopTestFormat: pair(nf4,dd4).sue4m4.b16+o1
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();

#include "sim_test_support.h"

#include <cstring>

#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/lutp_file.h"

namespace lutc::testing {

std::shared_ptr<const Program> compile_for(const QuantizedLayer& l, const ArchConfig& arch) {
  const std::vector<uint8_t> bytes = serialize_lutp(compile_layer(l, arch));
  return std::make_shared<const Program>(parse_lutp(bytes.data(), bytes.size(), l.name + ".lutp"));
}

sim::SimLayer layer_of(std::shared_ptr<const Program> p, std::vector<float> x) {
  sim::SimLayer l;
  l.load = [p] { return p; };
  l.x = std::move(x);
  return l;
}

sim::SimJob job_of(const ArchConfig& arch, std::vector<sim::SimLayer> layers, uint32_t batch) {
  sim::SimJob j;
  j.arch = arch;
  j.batch = batch;
  j.layers = std::move(layers);
  return j;
}

std::vector<sim::SimResult> simulate_jobs(std::vector<sim::SimJob> jobs) {
  std::vector<sim::SimResult> out;
  sim::run_in_systemc([&] {
    out = sim::simulate(std::move(jobs));
    return 0;
  });
  return out;
}

std::vector<float> random_activations(uint32_t batch, uint32_t cols, std::mt19937_64& rng) {
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> x(size_t(batch) * cols);
  for (auto& v : x) v = n(rng);
  if (!x.empty()) x[0] = 0;
  return x;
}

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

}  // namespace lutc::testing

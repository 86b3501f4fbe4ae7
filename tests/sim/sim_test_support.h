#pragma once
// Programs and runs for the SystemC tests: compile a layer for an arch (through
// the .lutp bytes, so the reader is on the path), wrap it as a SimLayer, and
// simulate inside this process's single SystemC elaboration.
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "lutc/compiler/program.h"
#include "lutc/sim/simulate.h"

namespace lutc::testing {

std::shared_ptr<const Program> compile_for(const QuantizedLayer& l, const ArchConfig& arch);
sim::SimLayer layer_of(std::shared_ptr<const Program> p, std::vector<float> x = {});
sim::SimJob job_of(const ArchConfig& arch, std::vector<sim::SimLayer> layers, uint32_t batch = 1);
// Simulates all jobs together, once; call once per TEST.
std::vector<sim::SimResult> simulate_jobs(std::vector<sim::SimJob> jobs);
std::vector<float> random_activations(uint32_t batch, uint32_t cols, std::mt19937_64& rng);
uint32_t float_bits(float f);

}  // namespace lutc::testing

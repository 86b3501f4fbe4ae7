#pragma once
// Shared inputs for the SOP tests.
#include <cstdint>
#include <random>
#include <vector>

#include "lutc/model/synth.h"

namespace lutc::sop_test {

inline std::vector<float> llm_like(uint32_t rows, uint32_t cols, uint64_t seed) {
  SynthSpec s;
  s.rows = rows;
  s.cols = cols;
  s.seed = seed;
  s.dead_row_frac = 0;
  return synth_matrix(s);
}

inline std::vector<float> gaussian(uint32_t rows, uint32_t cols, uint64_t seed, double sigma = 0.02) {
  std::mt19937_64 g(seed);
  std::normal_distribution<double> d(0, sigma);
  std::vector<float> w(size_t(rows) * cols);
  for (auto& v : w) v = float(d(g));
  return w;
}

}  // namespace lutc::sop_test

#pragma once
// Inputs the CLI tests share: an example arch of the source tree and a random
// activation file. Header-only: it needs the test target's LUTC_SOURCE_DIR.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "lutc/model/npy.h"

namespace lutc::testing {

// examples/arch/NAME.ini of the source tree.
inline std::string example_arch(const std::string& name) {
  return std::string(LUTC_SOURCE_DIR) + "/examples/arch/" + name + ".ini";
}

// A batch x cols float32 .npy of N(0, 1) values drawn from seed.
inline void write_random_x(const std::string& path, uint64_t batch, uint64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.f, 1.f);
  std::vector<float> x(batch * cols);
  for (auto& v : x) v = n(rng);
  write_npy(path, {batch, cols}, x.data());
}

}  // namespace lutc::testing

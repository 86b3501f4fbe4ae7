#pragma once
// Seeded synthetic LLM-shaped weight matrices for benchmarks and rate-
// distortion tables: rows with log-normal norms, heavy-tailed (Student-t)
// elements, a few outlier columns with large magnitude, a few dead rows.
#include <cstdint>
#include <string>
#include <vector>

namespace lutc {

struct SynthSpec {
  uint32_t rows = 4096;
  uint32_t cols = 4096;
  uint64_t seed = 1;
  double row_norm_sigma = 0.5;      // log-normal sigma of the per-row scale
  double student_nu = 5.0;          // tail heaviness of elements
  double outlier_col_frac = 0.002;  // fraction of columns carrying outliers
  double outlier_gain = 12.0;       // their magnitude relative to the row scale
  double dead_row_frac = 0.001;     // fraction of all-zero rows (at least 1 when > 0)
};

std::vector<float> synth_matrix(const SynthSpec& spec);

// The default LLM-shaped set: 4096x4096 (attention-like) and 11008x4096 (MLP-like).
struct SynthTensor {
  std::string name;
  SynthSpec spec;
};
std::vector<SynthTensor> default_synth_set(uint64_t seed = 1);

}  // namespace lutc

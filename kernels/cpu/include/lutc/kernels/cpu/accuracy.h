#pragma once
// How far a fast path's y is from an fp64 reference: the one NMSE that every
// parity report (kernel-check, gpu-check) prints, so their numbers compare.
#include <cmath>
#include <cstdint>
#include <vector>

namespace lutc::kernels {

// sum (got - want)^2 / sum want^2; infinite when any output is not finite
// (a poisoned output the kernel never wrote must not pass as small error).
inline double fast_path_nmse(const std::vector<float>& got, const std::vector<double>& want) {
  double err = 0, sig = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    const double d = double(got[i]) - want[i];
    err += d * d;
    sig += want[i] * want[i];
  }
  return sig > 0 ? err / sig : err;
}

// The fp64 product a fast path is measured against: decoded weights w
// (rows x cols) times the activations x (batch x cols) as the kernel
// receives them (already rounded to its activation type), summed in fp64.
inline std::vector<double> fp64_reference(const std::vector<float>& w, uint32_t rows, uint32_t cols,
                                          const std::vector<float>& x, uint32_t batch) {
  std::vector<double> ref(size_t(batch) * rows, 0.0);
  for (uint32_t m = 0; m < batch; ++m)
    for (uint32_t r = 0; r < rows; ++r) {
      double s = 0;
      for (uint32_t k = 0; k < cols; ++k) s += double(w[size_t(r) * cols + k]) * x[size_t(m) * cols + k];
      ref[size_t(m) * rows + r] = s;
    }
  return ref;
}

}  // namespace lutc::kernels

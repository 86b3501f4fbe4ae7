#pragma once
// How far a fast path's y is from an fp64 reference: the one NMSE that every
// parity report (kernel-check, gpu-check) prints, so their numbers compare.
#include <cmath>
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

}  // namespace lutc::kernels

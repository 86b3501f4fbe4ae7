// The floor ladder the H-Process relaxes (and raises) along (docs/hprocess.md). Steps are
// roughly even in -log10(1 - floor), the "number of nines", because that is
// the scale on which the stored bits of a row grow about linearly.
#include <algorithm>
#include <cmath>

#include "lutc/model/hprocess.h"

namespace lutc {
namespace {
constexpr double kLadder[] = {0.99999, 0.9999, 0.9995, 0.999, 0.998, 0.995, 0.99, 0.98,
                              0.97,    0.95,   0.9,    0.85,  0.8,   0.7,   0.6,  0.5};
}

double next_lower_floor(double f, double lowest) {
  for (double v : kLadder)
    if (v < f - 1e-12) return v >= lowest ? v : (lowest < f ? lowest : f);
  return lowest < f ? lowest : f;
}

double next_higher_floor(double f) {
  double up = f;
  for (double v : kLadder)
    if (v > f + 1e-12) up = v;  // the ladder descends: the last one above f is the nearest
  return up;
}

double floor_midpoint(double a, double b) {
  auto nines = [](double f) { return -std::log10(std::max(1e-12, 1 - f)); };
  const double f = 1 - std::pow(10.0, -(nines(a) + nines(b)) / 2);
  return std::round(f * 1e6) / 1e6;
}

}  // namespace lutc

#include "xfp/xfp_reach_bound.h"

#include <algorithm>
#include <cmath>

#include "core/kmeans1d.h"

namespace lutc::xfp {

double v2a_cosine_bound(const SortedMatrix& m, uint32_t r, unsigned bits, uint32_t count) {
  RowRuns rr;
  rr.build(m, r);
  Trims t;
  outlier_trims(m, r, count, &t);
  double energy = 0, sse = 0;
  double c[kMaxCenters];
  for (uint32_t g = 0; g < m.groups; ++g) {
    const Run& run = rr.runs[g];
    energy += run.sumsq(0, run.n);
    if (t.hi[g] > t.lo[g]) sse += kmeans1d_exact(run, t.lo[g], t.hi[g], 1u << bits, c);
  }
  if (energy <= 0) return 1.0;
  return std::sqrt(std::max(0.0, 1.0 - sse / energy));
}

}  // namespace lutc::xfp

#pragma once
// An upper bound on the cosine any xfp.v2a library can give a row at b bits:
// each (row, group) coded with its own optimal k-entry codebook. v2a needs a
// library before it can evaluate anything, and building one costs whole-layer
// passes; when this bound already misses a row's floor, no library can meet
// it and the search skips the candidate without building one.
#include <cstdint>

#include "xfp/xfp_sorted.h"

namespace lutc::xfp {

// For any partition of the kept values into contiguous clusters with any
// entries, Cauchy-Schwarz gives the estimated cosine (outliers exact) <=
// sqrt(1 - SSE_partition / energy), and each group's SSE is >= its exact
// k-means optimum. `count` outliers follow the outlier rule.
double v2a_cosine_bound(const SortedMatrix& m, uint32_t r, unsigned bits, uint32_t count);

}  // namespace lutc::xfp

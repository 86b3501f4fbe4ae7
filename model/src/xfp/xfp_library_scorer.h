#pragma once
// Scoring a sorted run against every codebook of a v2a library at once.
//
// A codebook's clusters over a sorted run are delimited by the ranks of its
// decision thresholds (midpoints between adjacent entries: values <= t go
// low). The thresholds of all library codebooks are merged into one
// ascending list per library; one search of that list per run value and a
// prefix sum rank every threshold (n log(L k) instead of L k log n). The clusters
// of any trimmed range [lo, hi) are those ranks clamped to [lo, hi]: outlier
// trims reuse the ranks, and each codebook then costs k prefix-sum lookups.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/kmeans1d.h"
#include "xfp/xfp_codebook.h"

namespace lutc::xfp {

class LibraryScorer {
 public:
  // values: count codebooks of k ascending entries each.
  LibraryScorer(const double* values, uint32_t count, unsigned k);

  uint32_t count() const { return count_; }
  // Entries per run of ranks: count * (k - 1).
  size_t ranks_size() const { return slot_.size(); }

  // ranks[l * (k - 1) + j] = number of run values <= threshold j of codebook l.
  void rank(const Run& run, uint32_t* ranks) const;

  // The codebook with the lowest SSE over [lo, hi) (ties: lower id), given
  // the run's ranks; *score gets its exact score (as score_range computes).
  uint32_t best(const Run& run, const uint32_t* ranks, uint32_t lo, uint32_t hi, Score* score) const;

  const double* codebook(uint32_t l) const { return values_.data() + size_t(l) * k_; }

 private:
  std::vector<double> values_;
  uint32_t count_;
  unsigned k_;
  // Thresholds of all codebooks, ascending, each as the largest float at or
  // below it; below_[q] is threshold slot_[q] of the ranks.
  std::vector<float> below_;
  std::vector<uint32_t> slot_;
};

}  // namespace lutc::xfp

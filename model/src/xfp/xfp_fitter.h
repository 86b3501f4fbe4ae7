#pragma once
// Per-row fitters the search drives: load a row, evaluate it with a given
// outlier count (estimated cosine from prefix sums, no pass over the row),
// then encode the last evaluation. One per thread; v2 fits a codebook per
// (row, group), v2a picks each group's codebook from a fixed library.
#include <cstdint>
#include <vector>

#include "core/kmeans1d.h"
#include "xfp/xfp_codebook.h"
#include "xfp/xfp_encode.h"
#include "xfp/xfp_library_scorer.h"
#include "xfp/xfp_sorted.h"

namespace lutc::xfp {

class RowFitter {
 public:
  RowFitter(const SortedMatrix& m, unsigned bits);
  virtual ~RowFitter() = default;
  void load(uint32_t r);
  // Estimated cosine of the row with `count` outliers.
  double eval(uint32_t count);
  // Codes and outliers of the last eval; group_cb() gives its codebooks.
  void encode(const float* wrow, uint8_t* codes_row, RowOutliers* out) const;
  const std::vector<const uint16_t*>& group_cb() const { return cb_ptr_; }
  const Trims& trims() const { return trims_; }

 protected:
  // Fills cb_ptr_[g] for the current trims and returns the dense score of
  // group g over its trimmed range. Called again only when the range changed
  // since the group's last fit in this row (eval reuses the last score).
  virtual Score fit_group(uint32_t g, const Run& run, uint32_t lo, uint32_t hi) = 0;
  // Per-row work shared by every eval of the row.
  virtual void on_load() {}

  const SortedMatrix& m_;
  unsigned k_;
  uint32_t row_ = 0;
  RowRuns runs_;
  Trims trims_;
  std::vector<const uint16_t*> cb_ptr_;
  double energy_ = 0;

 private:
  // The outlier search evaluates a row at several counts, and a count change
  // moves the trims of few groups: the last fit of each group is kept.
  struct LastFit {
    uint32_t lo = 1, hi = 0;  // empty-and-inverted: never matches a real range
    Score score;
  };
  std::vector<LastFit> last_;
};

class V2Fitter : public RowFitter {
 public:
  V2Fitter(const SortedMatrix& m, unsigned bits, const KmeansConfig& cfg);

 protected:
  Score fit_group(uint32_t g, const Run& run, uint32_t lo, uint32_t hi) override;

 private:
  KmeansConfig cfg_;
  std::vector<uint16_t> cb_;  // [groups][k]
};

class V2aFitter : public RowFitter {
 public:
  // library: [count][k] fp16, ascending entries per codebook.
  V2aFitter(const SortedMatrix& m, unsigned bits, const std::vector<uint16_t>& library);
  uint8_t group_id(uint32_t g) const { return ids_[g]; }
  // Right after load: takes the group ids an earlier eval of this row at
  // `count` chose, so that encode() needs no scoring.
  void use_ids(uint32_t count, const uint8_t* ids);

 protected:
  Score fit_group(uint32_t g, const Run& run, uint32_t lo, uint32_t hi) override;
  void on_load() override;

 private:
  const std::vector<uint16_t>& lib_;
  LibraryScorer scorer_;
  std::vector<uint32_t> ranks_;  // [groups][scorer_.ranks_size()], per loaded row
  std::vector<uint8_t> ranked_;  // group's ranks are those of the loaded row
  std::vector<uint8_t> ids_;
};

// Builds the v2a library for `bits` from the rows' groups (outliers per row
// given by counts; dead rows skipped). When reserve_zero, the last codebook
// is all zeros for dead rows and all-zero groups.
std::vector<uint16_t> build_v2a_library(const SortedMatrix& m, unsigned bits, const std::vector<uint32_t>& counts,
                                        const std::vector<uint8_t>& live, bool reserve_zero, unsigned threads);

}  // namespace lutc::xfp

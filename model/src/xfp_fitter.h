#pragma once
// Per-row fitters the search drives: load a row, evaluate it with a given
// outlier count (estimated cosine from prefix sums, no pass over the row),
// then encode the last evaluation. One per thread; v2 fits a codebook per
// (row, group), v2a picks each group's codebook from a fixed library.
#include <cstdint>
#include <vector>

#include "kmeans1d.h"
#include "xfp_codebook.h"
#include "xfp_encode.h"
#include "xfp_sorted.h"

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
  // group g over its trimmed range.
  virtual Score fit_group(uint32_t g, const Run& run, uint32_t lo, uint32_t hi) = 0;

  const SortedMatrix& m_;
  unsigned k_;
  uint32_t row_ = 0;
  RowRuns runs_;
  Trims trims_;
  std::vector<const uint16_t*> cb_ptr_;
  double energy_ = 0;
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

 protected:
  Score fit_group(uint32_t g, const Run& run, uint32_t lo, uint32_t hi) override;

 private:
  const std::vector<uint16_t>& lib_;
  std::vector<double> lib_values_;
  uint32_t lib_count_;
  std::vector<uint8_t> ids_;
};

// Builds the v2a library for `bits` from the rows' groups (outliers per row
// given by counts; dead rows skipped). When reserve_zero, the last codebook
// is all zeros for dead rows and all-zero groups.
std::vector<uint16_t> build_v2a_library(const SortedMatrix& m, unsigned bits,
                                        const std::vector<uint32_t>& counts,
                                        const std::vector<uint8_t>& live, bool reserve_zero,
                                        unsigned threads);

}  // namespace lutc::xfp

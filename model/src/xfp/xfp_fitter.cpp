#include "xfp/xfp_fitter.h"

#include <algorithm>
#include <cmath>

#include "lutc/model/layer.h"
#include "xfp/xfp_codebook.h"

namespace lutc::xfp {

RowFitter::RowFitter(const SortedMatrix& m, unsigned bits)
    : m_(m), k_(1u << bits), cb_ptr_(m.groups, nullptr), last_(m.groups) {}

void RowFitter::load(uint32_t r) {
  row_ = r;
  runs_.build(m_, r);
  energy_ = 0;
  for (const Run& run : runs_.runs) energy_ += run.sumsq(0, run.n);
  std::fill(last_.begin(), last_.end(), LastFit{});
  on_load();
}

double RowFitter::eval(uint32_t count) {
  outlier_trims(m_, row_, count, &trims_);
  double dot = 0, hh = 0, kept = 0;
  for (uint32_t g = 0; g < m_.groups; ++g) {
    const Run& run = runs_.runs[g];
    LastFit& last = last_[g];
    if (last.lo != trims_.lo[g] || last.hi != trims_.hi[g]) {
      last.lo = trims_.lo[g];
      last.hi = trims_.hi[g];
      last.score = fit_group(g, run, last.lo, last.hi);
    }
    const Score& s = last.score;
    dot += s.dot;
    hh += s.hh;
    kept += run.sumsq(trims_.lo[g], trims_.hi[g]);
  }
  // Outliers decode to (almost exactly) their value: fp16 residual rounding
  // is left to the exact check after encoding.
  const double out = std::max(0.0, energy_ - kept);
  dot += out;
  hh += out;
  if (energy_ <= 0) return 1.0;
  if (hh <= 0) return 0.0;
  return dot / std::sqrt(energy_ * hh);
}

void RowFitter::encode(const float* wrow, uint8_t* codes_row, RowOutliers* out) const {
  encode_row(m_, runs_, row_, wrow, trims_, cb_ptr_.data(), k_, codes_row, out);
}

V2Fitter::V2Fitter(const SortedMatrix& m, unsigned bits, const KmeansConfig& cfg)
    : RowFitter(m, bits), cfg_(cfg), cb_(size_t(m.groups) * (1u << bits)) {
  for (uint32_t g = 0; g < m.groups; ++g) cb_ptr_[g] = cb_.data() + size_t(g) * k_;
}

Score V2Fitter::fit_group(uint32_t g, const Run& run, uint32_t lo, uint32_t hi) {
  double c[kMaxCenters], e[kMaxCenters];
  kmeans1d(run, lo, hi, k_, cfg_, c);
  uint16_t* cb = cb_.data() + size_t(g) * k_;
  round_codebook(c, k_, cb);
  codebook_values(cb, k_, e);
  return score_range(run, lo, hi, e, k_);
}

namespace {
LibraryScorer make_scorer(const std::vector<uint16_t>& library, unsigned bits) {
  std::vector<double> values(library.size());
  codebook_values(library.data(), uint32_t(library.size()), values.data());
  return LibraryScorer(values.data(), uint32_t(library.size() >> bits), 1u << bits);
}
}  // namespace

V2aFitter::V2aFitter(const SortedMatrix& m, unsigned bits, const std::vector<uint16_t>& library)
    : RowFitter(m, bits),
      lib_(library),
      scorer_(make_scorer(library, bits)),
      ranks_(size_t(m.groups) * scorer_.ranks_size()),
      ranked_(m.groups, 0),
      ids_(m.groups, 0) {}

void V2aFitter::on_load() {
  // Ranked on first use: trims only clamp the ranks, so one ranking per
  // group serves every eval of the row, and a row encoded from known ids
  // needs none.
  std::fill(ranked_.begin(), ranked_.end(), 0);
}

void V2aFitter::use_ids(uint32_t count, const uint8_t* ids) {
  outlier_trims(m_, row_, count, &trims_);
  for (uint32_t g = 0; g < m_.groups; ++g) {
    ids_[g] = ids[g];
    cb_ptr_[g] = lib_.data() + size_t(ids[g]) * k_;
  }
}

Score V2aFitter::fit_group(uint32_t g, const Run& run, uint32_t lo, uint32_t hi) {
  if (!ranked_[g]) {
    scorer_.rank(run, ranks_.data() + size_t(g) * scorer_.ranks_size());
    ranked_[g] = 1;
  }
  Score best;
  const uint32_t id = scorer_.best(run, ranks_.data() + size_t(g) * scorer_.ranks_size(), lo, hi, &best);
  ids_[g] = uint8_t(id);
  cb_ptr_[g] = lib_.data() + size_t(id) * k_;
  return best;
}

}  // namespace lutc::xfp

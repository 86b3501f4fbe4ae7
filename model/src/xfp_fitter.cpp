#include "xfp_fitter.h"

#include <cmath>
#include <limits>

#include "lutc/model/layer.h"
#include "xfp_codebook.h"

namespace lutc::xfp {

RowFitter::RowFitter(const SortedMatrix& m, unsigned bits)
    : m_(m), k_(1u << bits), cb_ptr_(m.groups, nullptr) {}

void RowFitter::load(uint32_t r) {
  row_ = r;
  runs_.build(m_, r);
  energy_ = 0;
  for (const Run& run : runs_.runs) energy_ += run.sumsq(0, run.n);
}

double RowFitter::eval(uint32_t count) {
  outlier_trims(m_, row_, count, &trims_);
  double dot = 0, hh = 0, kept = 0;
  for (uint32_t g = 0; g < m_.groups; ++g) {
    const Run& run = runs_.runs[g];
    const Score s = fit_group(g, run, trims_.lo[g], trims_.hi[g]);
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

V2aFitter::V2aFitter(const SortedMatrix& m, unsigned bits, const std::vector<uint16_t>& library)
    : RowFitter(m, bits),
      lib_(library),
      lib_values_(library.size()),
      lib_count_(uint32_t(library.size() >> bits)),
      ids_(m.groups, 0) {
  codebook_values(library.data(), uint32_t(library.size()), lib_values_.data());
}

Score V2aFitter::fit_group(uint32_t g, const Run& run, uint32_t lo, uint32_t hi) {
  Score best;
  best.sse = std::numeric_limits<double>::infinity();
  uint32_t id = 0;
  for (uint32_t l = 0; l < lib_count_; ++l) {
    const Score s = score_range(run, lo, hi, lib_values_.data() + size_t(l) * k_, k_);
    if (s.sse < best.sse) {  // ties keep the lower id
      best = s;
      id = l;
    }
  }
  ids_[g] = uint8_t(id);
  cb_ptr_[g] = lib_.data() + size_t(id) * k_;
  return best;
}

}  // namespace lutc::xfp

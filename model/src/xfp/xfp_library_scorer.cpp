#include "xfp/xfp_library_scorer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace lutc::xfp {

namespace {

// The largest float <= t: for a float v, v <= t exactly when v <= this, so
// the ranks can compare floats without widening every value.
float float_at_or_below(double t) {
  if (t >= double(std::numeric_limits<float>::max())) return std::numeric_limits<float>::max();
  float f = float(t);
  if (double(f) > t) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

// Number of entries of the ascending a[0..n) that are < x; branch-free, so
// the searches of successive values overlap in the pipeline.
inline uint32_t count_below(const float* a, uint32_t n, float x) {
  if (n == 0) return 0;
  uint32_t lo = 0;
  while (n > 1) {
    const uint32_t half = n / 2;
    // A mask, not a ternary: compilers turn the ternary into a branch here.
    lo += half & (0u - uint32_t(a[lo + half - 1] < x));
    n -= half;
  }
  return lo + uint32_t(a[lo] < x);
}

}  // namespace

LibraryScorer::LibraryScorer(const double* values, uint32_t count, unsigned k)
    : values_(values, values + size_t(count) * k), count_(count), k_(k) {
  const size_t per = k - 1;
  std::vector<double> t(size_t(count) * per);
  for (uint32_t l = 0; l < count; ++l)
    for (unsigned j = 0; j < per; ++j) {
      const double* e = codebook(l);
      t[l * per + j] = 0.5 * (e[j] + e[j + 1]);  // the same midpoint Run::upper is given
    }
  slot_.resize(t.size());
  std::iota(slot_.begin(), slot_.end(), 0u);
  std::stable_sort(slot_.begin(), slot_.end(), [&](uint32_t a, uint32_t b) { return t[a] < t[b]; });
  below_.resize(t.size());
  for (size_t q = 0; q < t.size(); ++q) below_[q] = float_at_or_below(t[slot_[q]]);
}

void LibraryScorer::rank(const Run& run, uint32_t* ranks) const {
  // A value counts toward threshold q when it is <= t_q, i.e. when q is at or
  // past the number of thresholds below the value: a histogram of those
  // counts, prefix-summed. The per-value searches are independent of each
  // other, unlike the steps of a merge of the two lists.
  const uint32_t nt = uint32_t(below_.size());
  thread_local std::vector<uint32_t> hist;
  hist.assign(size_t(nt) + 1, 0);
  for (uint32_t i = 0; i < run.n; ++i) ++hist[count_below(below_.data(), nt, run.v[i])];
  uint32_t acc = 0;
  for (uint32_t q = 0; q < nt; ++q) {
    acc += hist[q];
    ranks[slot_[q]] = acc;
  }
}

uint32_t LibraryScorer::best(const Run& run, const uint32_t* ranks, uint32_t lo, uint32_t hi, Score* score) const {
  const unsigned per = k_ - 1;
  const double* s1 = run.s1;
  // SSE = sumsq(lo, hi) + sum_j (e_j^2 n_j - 2 e_j S1_j); the first term is
  // the same for every codebook, so only the second is compared.
  double best_acc = std::numeric_limits<double>::infinity();
  uint32_t id = 0;
  for (uint32_t l = 0; l < count_; ++l) {
    const double* e = codebook(l);
    const uint32_t* rk = ranks + size_t(l) * per;
    double acc = 0;
    uint32_t a = lo;
    for (unsigned j = 0; j < k_; ++j) {
      const uint32_t b = j < per ? std::clamp(rk[j], lo, hi) : hi;
      acc += e[j] * (e[j] * double(b - a) - 2 * (s1[b] - s1[a]));
      a = b;
    }
    if (acc < best_acc) best_acc = acc, id = l;
  }
  if (score) {
    Score s;
    const double* e = codebook(id);
    const uint32_t* rk = ranks + size_t(id) * per;
    uint32_t a = lo;
    for (unsigned j = 0; j < k_ && a < hi; ++j) {
      const uint32_t b = j < per ? std::clamp(rk[j], lo, hi) : hi;
      if (b > a) {
        const double n = b - a, sum = run.sum(a, b);
        s.sse += run.sumsq(a, b) - 2 * e[j] * sum + e[j] * e[j] * n;
        s.dot += e[j] * sum;
        s.hh += e[j] * e[j] * n;
      }
      a = b;
    }
    if (s.sse < 0) s.sse = 0;
    *score = s;
  }
  return id;
}

}  // namespace lutc::xfp

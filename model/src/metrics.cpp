#include "lutc/model/metrics.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace lutc {
namespace {

constexpr float kDeadBelow = 2.98023223876953125e-08f;  // 2^-25
constexpr float kTinyBelow = 6.103515625e-05f;          // 2^-14

// Sums of one row pair in a fixed order: 8 fp64 lanes (element k goes to lane
// k % 8), then the lanes pairwise. Independent lanes let the compiler
// vectorize without reassociating anything, and every caller (the quantizer's
// floor check, the report) gets bit-identical cosines from the same order.
struct RowSums {
  double ab = 0, aa = 0, bb = 0, ee = 0;  // ee = sum (a - b)^2
  float amax = 0;                          // max |a|
};

constexpr unsigned kLanes = 8;

double fold(const double* l) {
  return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

RowSums row_sums(const float* a, const float* b, uint32_t cols) {
  double ab[kLanes] = {}, aa[kLanes] = {}, bb[kLanes] = {}, ee[kLanes] = {};
  float mx[kLanes] = {};
  uint32_t k = 0;
  for (; k + kLanes <= cols; k += kLanes) {
    for (unsigned j = 0; j < kLanes; ++j) {
      const double x = a[k + j], y = b[k + j], d = x - y;
      ab[j] += x * y;
      aa[j] += x * x;
      bb[j] += y * y;
      ee[j] += d * d;
      const float m = std::fabs(a[k + j]);
      mx[j] = m > mx[j] ? m : mx[j];  // branch-free max, no libm call
    }
  }
  for (unsigned j = 0; k < cols; ++k, ++j) {
    const double x = a[k], y = b[k], d = x - y;
    ab[j] += x * y;
    aa[j] += x * x;
    bb[j] += y * y;
    ee[j] += d * d;
    const float m = std::fabs(a[k]);
    mx[j] = m > mx[j] ? m : mx[j];
  }
  RowSums s;
  s.ab = fold(ab);
  s.aa = fold(aa);
  s.bb = fold(bb);
  s.ee = fold(ee);
  for (unsigned j = 0; j < kLanes; ++j) s.amax = mx[j] > s.amax ? mx[j] : s.amax;
  return s;
}

float abs_max(const float* row, uint32_t cols) {
  float mx[kLanes] = {};
  uint32_t k = 0;
  for (; k + kLanes <= cols; k += kLanes)
    for (unsigned j = 0; j < kLanes; ++j) {
      const float m = std::fabs(row[k + j]);
      mx[j] = m > mx[j] ? m : mx[j];
    }
  float m = 0;
  for (unsigned j = 0; j < kLanes; ++j) m = mx[j] > m ? mx[j] : m;
  for (; k < cols; ++k) m = std::fabs(row[k]) > m ? std::fabs(row[k]) : m;
  return m;
}

double cosine_of(const RowSums& s) {
  if (s.aa == 0 && s.bb == 0) return 1.0;
  if (s.aa == 0 || s.bb == 0) return 0.0;
  return s.ab / std::sqrt(s.aa * s.bb);
}

}  // namespace

bool row_is_dead(const float* row, uint32_t cols) { return !(abs_max(row, cols) >= kDeadBelow); }

bool row_is_tiny(const float* row, uint32_t cols) {
  const float m = abs_max(row, cols);
  return m >= kDeadBelow && m < kTinyBelow;
}

double row_cosine(const float* a, const float* b, uint32_t cols) {
  return cosine_of(row_sums(a, b, cols));
}

std::vector<double> row_cosines(const float* w, const float* w_hat, uint32_t rows, uint32_t cols) {
  std::vector<double> c(rows, 1.0);
  for (uint32_t r = 0; r < rows; ++r) {
    const RowSums s = row_sums(w + size_t(r) * cols, w_hat + size_t(r) * cols, cols);
    if (s.amax >= kDeadBelow) c[r] = cosine_of(s);
  }
  return c;
}

QualityStats measure_quality(const float* w, const float* w_hat, uint32_t rows, uint32_t cols,
                             double floor) {
  QualityStats q;
  double sig = 0, err = 0, cos_sum = 0;
  q.cos_min = std::numeric_limits<double>::infinity();
  for (uint32_t r = 0; r < rows; ++r) {
    // One pass per row: energies, error, cosine and max |w| together.
    const RowSums s = row_sums(w + size_t(r) * cols, w_hat + size_t(r) * cols, cols);
    sig += s.aa;
    err += s.ee;
    if (!(s.amax >= kDeadBelow)) {
      ++q.dead_rows;
      continue;
    }
    if (s.amax < kTinyBelow) ++q.tiny_rows;
    ++q.live_rows;
    const double c = cosine_of(s);
    cos_sum += c;
    if (c < q.cos_min) {
      q.cos_min = c;
      q.worst_row = r;
    }
    if (floor > 0 && c < floor) ++q.rows_below_floor;
  }
  if (q.live_rows == 0) {
    q.cos_min = 1;
    q.cos_mean = 1;
  } else {
    q.cos_mean = cos_sum / q.live_rows;
  }
  q.signal = sig;
  q.error = err;
  q.nmse = sig > 0 ? err / sig : (err > 0 ? std::numeric_limits<double>::infinity() : 0.0);
  q.sqnr_db = err > 0 ? 10.0 * std::log10(sig / err) : std::numeric_limits<double>::infinity();
  return q;
}

}  // namespace lutc

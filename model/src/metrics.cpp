#include "lutc/model/metrics.h"

#include <cmath>
#include <limits>

namespace lutc {

bool row_is_dead(const float* row, uint32_t cols) {
  for (uint32_t k = 0; k < cols; ++k)
    if (std::fabs(row[k]) >= 2.98023223876953125e-08f) return false;  // 2^-25
  return true;
}

bool row_is_tiny(const float* row, uint32_t cols) {
  float m = 0;
  for (uint32_t k = 0; k < cols; ++k) m = std::fmax(m, std::fabs(row[k]));
  return m >= 2.98023223876953125e-08f && m < 6.103515625e-05f;
}

double row_cosine(const float* a, const float* b, uint32_t cols) {
  double ab = 0, aa = 0, bb = 0;
  for (uint32_t k = 0; k < cols; ++k) {
    ab += double(a[k]) * b[k];
    aa += double(a[k]) * a[k];
    bb += double(b[k]) * b[k];
  }
  if (aa == 0 && bb == 0) return 1.0;
  if (aa == 0 || bb == 0) return 0.0;
  return ab / std::sqrt(aa * bb);
}

std::vector<double> row_cosines(const float* w, const float* w_hat, uint32_t rows, uint32_t cols) {
  std::vector<double> c(rows, 1.0);
  for (uint32_t r = 0; r < rows; ++r) {
    const float* a = w + size_t(r) * cols;
    if (!row_is_dead(a, cols)) c[r] = row_cosine(a, w_hat + size_t(r) * cols, cols);
  }
  return c;
}

QualityStats measure_quality(const float* w, const float* w_hat, uint32_t rows, uint32_t cols,
                             double floor) {
  QualityStats q;
  double sig = 0, err = 0, cos_sum = 0;
  q.cos_min = std::numeric_limits<double>::infinity();
  for (uint32_t r = 0; r < rows; ++r) {
    const float* a = w + size_t(r) * cols;
    const float* b = w_hat + size_t(r) * cols;
    for (uint32_t k = 0; k < cols; ++k) {
      const double d = double(a[k]) - b[k];
      sig += double(a[k]) * a[k];
      err += d * d;
    }
    if (row_is_dead(a, cols)) {
      ++q.dead_rows;
      continue;
    }
    if (row_is_tiny(a, cols)) ++q.tiny_rows;
    ++q.live_rows;
    const double c = row_cosine(a, b, cols);
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

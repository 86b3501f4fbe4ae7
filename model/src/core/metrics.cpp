#include "lutc/model/metrics.h"

#include <cmath>
#include <cstring>
#include <limits>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace lutc {
namespace {

constexpr float kDeadBelow = 2.98023223876953125e-08f;  // 2^-25
constexpr float kTinyBelow = 6.103515625e-05f;          // 2^-14

// Sums of one row pair in a fixed order: 4 fp64 lanes (element k goes to lane
// k % 4), then the lanes pairwise. Independent lanes vectorize without
// reassociating anything, and every caller (the quantizer's floor check, the
// report) gets bit-identical cosines from the same order.
struct RowSums {
  double ab = 0, aa = 0, bb = 0, ee = 0;  // ee = sum (a - b)^2
  float amax = 0;                         // max |a|
};

constexpr unsigned kLanes = 4;
typedef double V2d __attribute__((vector_size(16)));
typedef float V4f __attribute__((vector_size(16)));
typedef int32_t V4i __attribute__((vector_size(16)));

// Lanes 0,1 and 2,3 of four floats as doubles (exact).
inline void widen(V4f f, V2d* lo, V2d* hi) {
#ifdef __SSE2__
  // GCC does not find cvtps2pd for the generic form below.
  const __m128 x = __m128(f);
  *lo = V2d(_mm_cvtps_pd(x));
  *hi = V2d(_mm_cvtps_pd(_mm_movehl_ps(x, x)));
#else
  *lo = V2d{f[0], f[1]};
  *hi = V2d{f[2], f[3]};
#endif
}

double fold(V2d lo, V2d hi) { return (lo[0] + lo[1]) + (hi[0] + hi[1]); }

RowSums row_sums(const float* a, const float* b, uint32_t cols) {
  // Lanes 0,1 in the *0 vectors and 2,3 in the *1 vectors.
  V2d ab0 = {0, 0}, ab1 = ab0, aa0 = ab0, aa1 = ab0, bb0 = ab0, bb1 = ab0, ee0 = ab0, ee1 = ab0;
  V4f vmx = {0, 0, 0, 0};
  const V4i abs_mask = {0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff};
  uint32_t k = 0;
  for (; k + kLanes <= cols; k += kLanes) {
    V4f xa, ya;
    std::memcpy(&xa, a + k, sizeof xa);
    std::memcpy(&ya, b + k, sizeof ya);
    const V4f m = V4f(V4i(xa) & abs_mask);  // |x|
    vmx = m > vmx ? m : vmx;                // branch-free max, no libm call
    V2d x0, x1, y0, y1;
    widen(xa, &x0, &x1);
    widen(ya, &y0, &y1);
    const V2d d0 = x0 - y0, d1 = x1 - y1;
    ab0 += x0 * y0;
    ab1 += x1 * y1;
    aa0 += x0 * x0;
    aa1 += x1 * x1;
    bb0 += y0 * y0;
    bb1 += y1 * y1;
    ee0 += d0 * d0;
    ee1 += d1 * d1;
  }
  float mx[kLanes];
  for (unsigned j = 0; j < kLanes; ++j) mx[j] = vmx[j];
  for (unsigned j = 0; k < cols; ++k, ++j) {
    const double x = a[k], y = b[k], d = x - y;
    V2d& vab = j < 2 ? ab0 : ab1;
    V2d& vaa = j < 2 ? aa0 : aa1;
    V2d& vbb = j < 2 ? bb0 : bb1;
    V2d& vee = j < 2 ? ee0 : ee1;
    vab[j & 1] += x * y;
    vaa[j & 1] += x * x;
    vbb[j & 1] += y * y;
    vee[j & 1] += d * d;
    const float m = std::fabs(a[k]);
    mx[j] = m > mx[j] ? m : mx[j];
  }
  RowSums s;
  s.ab = fold(ab0, ab1);
  s.aa = fold(aa0, aa1);
  s.bb = fold(bb0, bb1);
  s.ee = fold(ee0, ee1);
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

double row_cosine(const float* a, const float* b, uint32_t cols) { return cosine_of(row_sums(a, b, cols)); }

std::vector<double> row_cosines(const float* w, const float* w_hat, uint32_t rows, uint32_t cols) {
  std::vector<double> c(rows, 1.0);
  for (uint32_t r = 0; r < rows; ++r) {
    const RowSums s = row_sums(w + size_t(r) * cols, w_hat + size_t(r) * cols, cols);
    if (s.amax >= kDeadBelow) c[r] = cosine_of(s);
  }
  return c;
}

QualityAccumulator::QualityAccumulator(uint32_t cols, double floor) : cols_(cols), floor_(floor) {
  q_.cos_min = std::numeric_limits<double>::infinity();
}

void QualityAccumulator::add_rows(const float* w, const float* w_hat, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t r = next_row_++;
    // One pass per row: energies, error, cosine and max |w| together.
    const RowSums s = row_sums(w + size_t(i) * cols_, w_hat + size_t(i) * cols_, cols_);
    sig_ += s.aa;
    err_ += s.ee;
    if (!(s.amax >= kDeadBelow)) {
      ++q_.dead_rows;
      continue;
    }
    if (s.amax < kTinyBelow) ++q_.tiny_rows;
    ++q_.live_rows;
    const double c = cosine_of(s);
    cos_sum_ += c;
    if (c < q_.cos_min) {
      q_.cos_min = c;
      q_.worst_row = r;
    }
    if (floor_ > 0 && c < floor_) ++q_.rows_below_floor;
  }
}

QualityStats QualityAccumulator::finish() const {
  QualityStats q = q_;
  if (q.live_rows == 0) {
    q.cos_min = 1;
    q.cos_mean = 1;
  } else {
    q.cos_mean = cos_sum_ / q.live_rows;
  }
  q.signal = sig_;
  q.error = err_;
  q.nmse = sig_ > 0 ? err_ / sig_ : (err_ > 0 ? std::numeric_limits<double>::infinity() : 0.0);
  q.sqnr_db = err_ > 0 ? 10.0 * std::log10(sig_ / err_) : std::numeric_limits<double>::infinity();
  return q;
}

QualityStats measure_quality(const float* w, const float* w_hat, uint32_t rows, uint32_t cols, double floor) {
  QualityAccumulator acc(cols, floor);
  acc.add_rows(w, w_hat, rows);
  return acc.finish();
}

}  // namespace lutc

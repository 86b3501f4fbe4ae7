#pragma once
// Reconstruction quality of a decoded matrix against its original.
#include <cstdint>
#include <vector>

namespace lutc {

// A row is dead when it has no value an fp16 codebook can hold: all zero, or
// every |w| < 2^-25 (rounds to zero in fp16). Dead rows are stored as zeros and
// excluded from cosine statistics and floors; they are counted and reported.
bool row_is_dead(const float* row, uint32_t cols);
// A live row whose max |w| is below the fp16 normal range (2^-14): fp16
// codebooks hold it only with subnormal precision. Counted and reported.
bool row_is_tiny(const float* row, uint32_t cols);

// Cosine similarity in fp64. Defined as 1 when both rows are all zero, 0 when
// exactly one of them is.
double row_cosine(const float* a, const float* b, uint32_t cols);

struct QualityStats {
  double sqnr_db = 0;   // 10 log10(sum w^2 / sum (w - w_hat)^2) over the whole matrix; +inf if exact
  double nmse = 0;      // sum (w - w_hat)^2 / sum w^2
  double signal = 0;    // sum w^2, so reports can total several matrices exactly
  double error = 0;     // sum (w - w_hat)^2
  double cos_min = 1;   // over live rows
  double cos_mean = 1;  // over live rows
  uint32_t live_rows = 0;
  uint32_t dead_rows = 0;
  uint32_t tiny_rows = 0;
  uint32_t worst_row = 0;         // row index of cos_min
  uint32_t rows_below_floor = 0;  // live rows with cos < floor (0 when floor <= 0)
};

QualityStats measure_quality(const float* w, const float* w_hat, uint32_t rows, uint32_t cols, double floor = 0.0);

// measure_quality over rows given in order, a block at a time (so a decode
// can feed it a few rows at a time instead of a whole decoded matrix). The
// result is identical to measure_quality on the whole matrix.
class QualityAccumulator {
 public:
  QualityAccumulator(uint32_t cols, double floor);
  // The next n rows: w and w_hat point at their first row.
  void add_rows(const float* w, const float* w_hat, uint32_t n);
  QualityStats finish() const;

 private:
  uint32_t cols_;
  double floor_;
  uint32_t next_row_ = 0;
  double sig_ = 0, err_ = 0, cos_sum_ = 0;
  QualityStats q_;
};

// Per-row cosines (dead rows get 1), for callers that need the distribution.
std::vector<double> row_cosines(const float* w, const float* w_hat, uint32_t rows, uint32_t cols);

}  // namespace lutc

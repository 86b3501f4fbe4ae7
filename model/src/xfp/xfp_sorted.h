#pragma once
// Every (row, group) of a matrix sorted once, with the permutation back to
// columns: codebook fits, outlier choices and quality estimates for any bit
// width then run on prefix sums of these runs without touching the row again.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/kmeans1d.h"

namespace lutc::xfp {

// Sorts x[0..n) ascending into v, perm[i] = source index of v[i]. Radix sort on
// the float bit pattern for long runs; stable, so equal bit patterns keep
// column order. -0 sorts just before +0 (the key is the bit pattern), which
// changes no value in v.
void sort_with_perm(const float* x, uint32_t n, float* v, uint32_t* perm);
// The same v without the permutation.
void sort_values(const float* x, uint32_t n, float* v);

struct SortedMatrix {
  uint32_t rows = 0, cols = 0, group = 0, groups = 0;  // group = cols for whole rows
  std::vector<float> v;                                // rows x cols; each (row, group) sorted ascending
  std::vector<uint32_t> perm;                          // column (within the row) of each v; empty: values only
  std::vector<float> median;                           // per row, of all its values

  uint32_t group_len(uint32_t g) const { return g + 1 < groups ? group : cols - g * group; }
  const float* group_values(uint32_t r, uint32_t g) const { return v.data() + size_t(r) * cols + size_t(g) * group; }
  const uint32_t* group_perm(uint32_t r, uint32_t g) const {
    return perm.data() + size_t(r) * cols + size_t(g) * group;
  }
};

SortedMatrix sort_matrix(const float* w, uint32_t rows, uint32_t cols, uint32_t group, unsigned threads);

// Storage for `rows` rows, unsorted; sort_row fills one. A one-row matrix lets
// a single-pass encode sort, fit and encode a row at a time instead of
// holding the sorted layer (which is twice the size of the weights).
// Without perm (whole-row groups only) a row's codes can only be assigned by
// value and it can have no outliers: the cheaper sort of a fixed-bits encode.
SortedMatrix sorted_matrix_storage(uint32_t rows, uint32_t cols, uint32_t group, bool with_perm = true);
void sort_row(const float* row, uint32_t r, SortedMatrix* m);

// Prefix sums of one row's groups, rebuilt per row into reusable storage.
struct RowRuns {
  std::vector<double> s1, s2;
  std::vector<Run> runs;  // one per group
  void build(const SortedMatrix& m, uint32_t r);
};

// The outlier rule: a row's outliers are its m values farthest from the row
// median (ties: the lower group first, then the high side; docs/xfp.md
// "Outliers"). Within a group
// these are a prefix and a suffix of its sorted run, so the rest of the group
// is the contiguous range [lo[g], hi[g]).
struct Trims {
  std::vector<uint32_t> lo, hi;
};
void outlier_trims(const SortedMatrix& m, uint32_t r, uint32_t count, Trims* t);

}  // namespace lutc::xfp

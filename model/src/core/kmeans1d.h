#pragma once
// 1-D k-means on sorted values. Clusters of an optimal (or Lloyd-stable) 1-D
// quantizer are contiguous runs of the sorted data, so with fp64 prefix sums
// every cluster statistic is O(1) and one Lloyd step costs O(k log n) instead
// of O(n k). See docs/xfp.md for the measurements behind the defaults.
#include <cstdint>

namespace lutc::xfp {

// A sorted run of values with prefix sums: s1[i] = v[0] + ... + v[i-1] (n + 1 entries).
struct Run {
  const float* v = nullptr;
  const double* s1 = nullptr;
  const double* s2 = nullptr;
  uint32_t n = 0;

  double sum(uint32_t a, uint32_t b) const { return s1[b] - s1[a]; }
  double sumsq(uint32_t a, uint32_t b) const { return s2[b] - s2[a]; }
  double sse(uint32_t a, uint32_t b) const {
    if (b <= a + 1) return 0;
    const double s = sum(a, b);
    const double e = sumsq(a, b) - s * s / double(b - a);
    return e > 0 ? e : 0;
  }
  // First index in [a, b) whose value is > t (b when none): values <= t stay
  // in the lower cluster, which is the deterministic tie rule everywhere.
  uint32_t upper(uint32_t a, uint32_t b, double t) const;
  // The same index, found by galloping from a guess g (cheap when the answer
  // is near g, as for Lloyd boundaries after the first step).
  uint32_t upper_from(uint32_t a, uint32_t b, double t, uint32_t g) const;
};

void prefix_sums(const float* v, uint32_t n, double* s1, double* s2);

enum class KmeansInit : uint8_t {
  kQuantile,     // centers at the (i + 1/2)/k quantiles: the classic Lloyd start
  kGreedySplit,  // repeatedly split the cluster whose best 2-split gains most
  kAtomDp,       // exact DP over <= 2 * atoms_per_center * k atoms, then Lloyd
};

struct KmeansConfig {
  unsigned max_iters = 64;  // Lloyd steps; stops earlier when no boundary moves
  KmeansInit init = KmeansInit::kAtomDp;
  unsigned atoms_per_center = 4;
  // kAtomDp costs O(k^2 atoms_per_center log): above this k, greedy split.
  unsigned atom_dp_max_k = 32;
  // Merge-two / split-one moves after a greedy-split Lloyd (0 = none).
  unsigned split_merge_rounds = 16;
  // Ranges with at most this many values are solved exactly by dynamic
  // programming (0 = never).
  uint32_t exact_max_n = 0;
};

constexpr unsigned kMaxCenters = 256;

// Fits k centers (k <= kMaxCenters) to the values [a, b) of the run. Writes k
// ascending centers; when the range has fewer than k distinct values, the
// surplus centers repeat the largest one. Returns the SSE.
double kmeans1d(const Run& r, uint32_t a, uint32_t b, unsigned k, const KmeansConfig& cfg, double* centers);

// Exact optimum by dynamic programming with divide-and-conquer over the
// monotone split points, O(k n log n). Same output contract as kmeans1d.
double kmeans1d_exact(const Run& r, uint32_t a, uint32_t b, unsigned k, double* centers);

// The atom DP of KmeansInit::kAtomDp on its own.
double kmeans1d_atoms(const Run& r, uint32_t a, uint32_t b, unsigned k, unsigned atoms_per_center, unsigned iters,
                      double* centers);

// The plain O(k n^2) dynamic program, assuming nothing about split points;
// the reference the tests hold the others to.
double kmeans1d_reference_sse(const float* sorted, uint32_t n, unsigned k);

// SSE of [a, b) when every value goes to its nearest center (ascending
// centers, ties to the lower one).
double sse_nearest(const Run& r, uint32_t a, uint32_t b, const double* centers, unsigned k);

}  // namespace lutc::xfp

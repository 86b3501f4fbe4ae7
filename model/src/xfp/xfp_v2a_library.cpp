// The v2a library: per-group codebooks fitted on a sample of groups seed a
// k-means in codebook space (distance = SSE increase if the group's clusters
// moved to the library entry's values), then whole-layer Lloyd rounds
// reassign every group to its best codebook and refit each library entry as
// the mean of all values assigned to it. docs/xfp.md explains the choices.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "lutc/model/layer.h"
#include "xfp/xfp_codebook.h"
#include "xfp/xfp_fitter.h"
#include "xfp/xfp_library_scorer.h"
#include "xfp/xfp_parallel.h"

namespace lutc::xfp {
namespace {

constexpr uint32_t kMaxSamples = 4096;
constexpr unsigned kCodebookIters = 20;
constexpr unsigned kLayerRounds = 2;

struct Sample {
  std::vector<double> c, n;  // centers and cluster sizes
};

double distance(const Sample& s, const double* lib, unsigned k) {
  double d = 0;
  for (unsigned j = 0; j < k; ++j) d += s.n[j] * (s.c[j] - lib[j]) * (s.c[j] - lib[j]);
  return d;
}

std::vector<Sample> sample_groups(const SortedMatrix& m, unsigned k, const std::vector<uint32_t>& counts,
                                  const std::vector<uint8_t>& live) {
  uint64_t total = 0;
  for (uint32_t r = 0; r < m.rows; ++r) total += live[r] ? m.groups : 0;
  const uint64_t stride = std::max<uint64_t>(1, total / kMaxSamples);
  std::vector<Sample> out;
  RowRuns rr;
  Trims t;
  KmeansConfig cfg;
  cfg.max_iters = 16;
  uint64_t idx = 0;
  for (uint32_t r = 0; r < m.rows; ++r) {
    if (!live[r]) continue;
    const uint64_t first = idx;
    idx += m.groups;
    // Is any group index of this row a multiple of stride?
    if ((first + stride - 1) / stride * stride >= idx) continue;
    rr.build(m, r);
    outlier_trims(m, r, counts[r], &t);
    for (uint32_t g = 0; g < m.groups; ++g) {
      if ((first + g) % stride) continue;
      const Run& run = rr.runs[g];
      const uint32_t lo = t.lo[g], hi = t.hi[g];
      if (hi <= lo || run.sumsq(lo, hi) <= 0) continue;
      Sample s;
      s.c.resize(k);
      s.n.assign(k, 0);
      kmeans1d(run, lo, hi, k, cfg, s.c.data());
      uint32_t a = lo;
      for (unsigned j = 0; j < k; ++j) {
        const uint32_t b = j + 1 < k ? run.upper(a, hi, 0.5 * (s.c[j] + s.c[j + 1])) : hi;
        s.n[j] = b - a;
        a = b;
      }
      out.push_back(std::move(s));
    }
  }
  return out;
}

void sort_each(std::vector<double>& lib, unsigned k) {
  for (size_t o = 0; o < lib.size(); o += k) std::sort(lib.begin() + o, lib.begin() + o + k);
}

// Weighted k-means of the sampled codebooks into L library codebooks.
std::vector<double> cluster_codebooks(const std::vector<Sample>& s, unsigned k, uint32_t L) {
  std::vector<double> lib(size_t(L) * k, 0.0);
  if (s.empty()) return lib;
  std::mt19937_64 rng(0x9e3779b97f4a7c15ull);  // fixed: quantization is deterministic
  std::vector<double> best(s.size(), std::numeric_limits<double>::infinity());
  // k-means++ seeding with D^2 weights.
  size_t pick = 0;
  double emax = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    const double e = distance(s[i], std::vector<double>(k, 0.0).data(), k);
    if (e > emax) emax = e, pick = i;
  }
  for (uint32_t l = 0; l < L; ++l) {
    std::copy(s[pick].c.begin(), s[pick].c.end(), lib.begin() + size_t(l) * k);
    double total = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      best[i] = std::min(best[i], distance(s[i], lib.data() + size_t(l) * k, k));
      total += best[i];
    }
    if (total <= 0) break;
    double u = std::uniform_real_distribution<double>(0, total)(rng);
    for (pick = 0; pick + 1 < s.size() && (u -= best[pick]) > 0; ++pick) {
    }
  }
  std::vector<uint32_t> assign(s.size(), 0);
  std::vector<double> num(lib.size()), den(lib.size());
  for (unsigned it = 0; it < kCodebookIters; ++it) {
    std::fill(num.begin(), num.end(), 0.0);
    std::fill(den.begin(), den.end(), 0.0);
    for (size_t i = 0; i < s.size(); ++i) {
      double bd = std::numeric_limits<double>::infinity();
      for (uint32_t l = 0; l < L; ++l) {
        const double d = distance(s[i], lib.data() + size_t(l) * k, k);
        if (d < bd) bd = d, assign[i] = l;
      }
      best[i] = bd;
      for (unsigned j = 0; j < k; ++j) {
        num[size_t(assign[i]) * k + j] += s[i].n[j] * s[i].c[j];
        den[size_t(assign[i]) * k + j] += s[i].n[j];
      }
    }
    for (size_t x = 0; x < lib.size(); ++x)
      if (den[x] > 0) lib[x] = num[x] / den[x];
    sort_each(lib, k);
  }
  return lib;
}

// Rows per block of the refinement sums: blocks are summed in order, so the
// library does not depend on how rows were split over threads.
constexpr uint32_t kBlockRows = 64;
// A refinement round visits at most about this many groups (every s-th row):
// each library entry is then a mean over tens of thousands of values, which
// more rows do not move measurably, and a round costs a fraction of a pass.
constexpr uint64_t kRefineGroups = 32768;

// One Lloyd round over the layer: every visited group takes its best
// codebook, every library entry becomes the mean of the values that decode to it.
void refine_on_layer(const SortedMatrix& m, unsigned k, uint32_t L, const std::vector<uint32_t>& counts,
                     const std::vector<uint8_t>& live, unsigned threads, std::vector<double>& lib) {
  const LibraryScorer scorer(lib.data(), L, k);
  uint64_t live_groups = 0;
  for (uint32_t r = 0; r < m.rows; ++r) live_groups += live[r] ? m.groups : 0;
  const uint32_t stride = uint32_t(std::max<uint64_t>(1, live_groups / kRefineGroups));
  const uint32_t blocks = (m.rows + kBlockRows - 1) / kBlockRows;
  std::vector<double> num(size_t(blocks) * lib.size(), 0.0), den(num.size(), 0.0);
  parallel_rows(blocks, threads, [&](uint32_t b0, uint32_t b1) {
    std::vector<uint32_t> ranks(scorer.ranks_size());
    RowRuns rr;
    Trims t;
    for (uint32_t blk = b0; blk < b1; ++blk) {
      double* bn = num.data() + size_t(blk) * lib.size();
      double* bd = den.data() + size_t(blk) * lib.size();
      const uint32_t r_end = std::min(m.rows, (blk + 1) * kBlockRows);
      for (uint32_t r = blk * kBlockRows; r < r_end; ++r) {
        if (!live[r] || r % stride) continue;
        rr.build(m, r);
        outlier_trims(m, r, counts[r], &t);
        for (uint32_t g = 0; g < m.groups; ++g) {
          const Run& run = rr.runs[g];
          const uint32_t lo = t.lo[g], hi = t.hi[g];
          if (hi <= lo) continue;
          scorer.rank(run, ranks.data());
          const uint32_t id = scorer.best(run, ranks.data(), lo, hi, nullptr);
          const uint32_t* rk = ranks.data() + size_t(id) * (k - 1);
          uint32_t a = lo;
          for (unsigned j = 0; j < k; ++j) {
            const uint32_t b = j + 1 < k ? std::clamp(rk[j], lo, hi) : hi;
            bn[size_t(id) * k + j] += run.sum(a, b);
            bd[size_t(id) * k + j] += b - a;
            a = b;
          }
        }
      }
    }
  });
  for (size_t x = 0; x < lib.size(); ++x) {
    double n = 0, d = 0;
    for (uint32_t blk = 0; blk < blocks; ++blk)
      n += num[size_t(blk) * lib.size() + x], d += den[size_t(blk) * lib.size() + x];
    if (d > 0) lib[x] = n / d;
  }
  sort_each(lib, k);
}

}  // namespace

std::vector<uint16_t> build_v2a_library(const SortedMatrix& m, unsigned bits, const std::vector<uint32_t>& counts,
                                        const std::vector<uint8_t>& live, bool reserve_zero, unsigned threads) {
  const unsigned k = 1u << bits;
  const uint32_t L = kV2aLibrarySize - (reserve_zero ? 1 : 0);
  std::vector<double> lib = cluster_codebooks(sample_groups(m, k, counts, live), k, L);
  for (unsigned round = 0; round < kLayerRounds; ++round) refine_on_layer(m, k, L, counts, live, threads, lib);
  std::vector<uint16_t> out(size_t(kV2aLibrarySize) * k, 0);  // the reserved codebook stays 0
  round_codebook(lib.data(), L * k, out.data());
  return out;
}

}  // namespace lutc::xfp

#include "core/kmeans1d.h"

#include <algorithm>
#include <limits>
#include <queue>
#include <vector>

namespace lutc::xfp {

uint32_t Run::upper(uint32_t a, uint32_t b, double t) const {
  // Branch-free binary search (a conditional move per step): the thresholds
  // are data dependent, so a branchy search mispredicts half the time.
  const float* base = v + a;
  uint32_t len = b - a;
  while (len > 1) {
    const uint32_t half = len / 2;
    base = double(base[half - 1]) <= t ? base + half : base;
    len -= half;
  }
  return uint32_t(base - v) + ((len == 1 && double(*base) <= t) ? 1u : 0u);
}

uint32_t Run::upper_from(uint32_t a, uint32_t b, double t, uint32_t g) const {
  g = g < a ? a : (g > b ? b : g);
  if (g > a && double(v[g - 1]) > t) {
    // The answer is at most g - 1: gallop down.
    uint32_t hi = g - 1, step = 1;  // v[hi] > t
    for (;;) {
      const uint32_t p = hi - a > step ? hi - step : a;
      if (p == a) return upper(a, hi, t);
      if (double(v[p]) <= t) return upper(p + 1, hi, t);
      hi = p;
      step *= 2;
    }
  }
  // Every value before g is <= t: gallop up.
  uint32_t lo = g, step = 1;
  for (;;) {
    const uint32_t p = lo + step;
    if (p >= b) return upper(lo, b, t);
    if (double(v[p]) > t) return upper(lo, p, t);
    lo = p + 1;
    step *= 2;
  }
}

void prefix_sums(const float* v, uint32_t n, double* s1, double* s2) {
  double a = 0, b = 0;
  s1[0] = 0;
  s2[0] = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const double x = v[i];
    a += x;
    b += x * x;
    s1[i + 1] = a;
    s2[i + 1] = b;
  }
}

namespace {

double mean(const Run& r, uint32_t a, uint32_t b) { return r.sum(a, b) / double(b - a); }

// Segments up to this long get the exact best 2-split by scanning; longer ones
// a few 2-means steps (the greedy init runs on whole rows).
constexpr uint32_t kExactSplitScan = 64;

// Best split of [a, b) into two clusters by 2-means from the mean threshold;
// a handful of steps reaches the 2-cluster optimum on unimodal runs.
struct Split {
  uint32_t a, b, s;
  double gain;
  bool operator<(const Split& o) const {
    return gain < o.gain || (gain == o.gain && a > o.a);  // deterministic order
  }
};

Split best_split(const Run& r, uint32_t a, uint32_t b) {
  Split sp{a, b, a, 0.0};
  if (b - a < 2 || r.v[a] == r.v[b - 1]) return sp;
  double best = std::numeric_limits<double>::infinity();
  if (b - a <= kExactSplitScan) {
    for (uint32_t s = a + 1; s < b; ++s) {
      const double e = r.sse(a, s) + r.sse(s, b);
      if (e < best) best = e, sp.s = s;
    }
  } else {
    uint32_t s = r.upper(a, b, mean(r, a, b));
    for (int it = 0; it < 12; ++it) {
      const double t = 0.5 * (mean(r, a, s) + mean(r, s, b));
      uint32_t ns = r.upper(a, b, t);
      ns = std::clamp<uint32_t>(ns, a + 1, b - 1);
      if (ns == s) break;
      s = ns;
    }
    sp.s = s;
    best = r.sse(a, s) + r.sse(s, b);
  }
  sp.gain = r.sse(a, b) - best;
  return sp;
}

unsigned greedy_split_init(const Run& r, uint32_t a, uint32_t b, unsigned k, double* c) {
  std::priority_queue<Split> heap;
  std::vector<std::pair<uint32_t, uint32_t>> done;
  heap.push(best_split(r, a, b));
  unsigned clusters = 1;
  while (clusters < k && !heap.empty() && heap.top().gain > 0) {
    const Split sp = heap.top();
    heap.pop();
    heap.push(best_split(r, sp.a, sp.s));
    heap.push(best_split(r, sp.s, sp.b));
    ++clusters;
  }
  unsigned m = 0;
  while (!heap.empty()) {
    const Split sp = heap.top();
    heap.pop();
    done.emplace_back(sp.a, sp.b);
  }
  std::sort(done.begin(), done.end());
  for (const auto& seg : done) c[m++] = mean(r, seg.first, seg.second);
  return m;
}

unsigned quantile_init(const Run& r, uint32_t a, uint32_t b, unsigned k, double* c) {
  const uint32_t n = b - a;
  for (unsigned j = 0; j < k; ++j) {
    const uint32_t i = a + uint32_t((uint64_t(2 * j + 1) * n) / (2 * k));
    c[j] = r.v[std::min(i, b - 1)];
  }
  return k;
}

// Lloyd on contiguous clusters; split points move monotonically, so each
// boundary is searched only above the previous one.
void lloyd(const Run& r, uint32_t a, uint32_t b, unsigned k, double* c, unsigned iters) {
  uint32_t split[kMaxCenters + 1];
  for (unsigned it = 0; it < iters; ++it) {
    split[0] = a;
    split[k] = b;
    // After the first step boundaries move little: search from where they were
    // (the same index a full binary search finds, in fewer probes).
    for (unsigned j = 1; j < k; ++j)
      split[j] = it ? r.upper_from(split[j - 1], b, 0.5 * (c[j - 1] + c[j]), split[j])
                    : r.upper(split[j - 1], b, 0.5 * (c[j - 1] + c[j]));
    bool moved = false;
    for (unsigned j = 0; j < k; ++j) {
      if (split[j + 1] <= split[j]) continue;  // empty: keep the center
      const double m = mean(r, split[j], split[j + 1]);
      if (m != c[j]) moved = true;
      c[j] = m;
    }
    if (!moved) break;
  }
}

// Lloyd only moves boundaries locally, so it keeps too many centers in one
// region and too few in another. One move fixes that: merge the adjacent pair
// that costs least to merge and spend the freed center on the best 2-split
// elsewhere, when the split gains more than the merge loses; then Lloyd again.
void split_merge(const Run& r, uint32_t a, uint32_t b, unsigned k, double* c, unsigned rounds, unsigned iters) {
  if (k < 3) return;
  uint32_t split[kMaxCenters + 1];
  std::vector<Split> best(k);
  for (unsigned round = 0; round < rounds; ++round) {
    split[0] = a;
    split[k] = b;
    for (unsigned j = 1; j < k; ++j) split[j] = r.upper(split[j - 1], b, 0.5 * (c[j - 1] + c[j]));
    double merge_cost = std::numeric_limits<double>::infinity();
    unsigned mj = 0;
    for (unsigned j = 0; j + 1 < k; ++j) {
      const double cost =
          r.sse(split[j], split[j + 2]) - r.sse(split[j], split[j + 1]) - r.sse(split[j + 1], split[j + 2]);
      if (cost < merge_cost) merge_cost = cost, mj = j;
    }
    Split top{0, 0, 0, 0.0};
    unsigned sj = k;
    for (unsigned j = 0; j < k; ++j) {
      if (j == mj || j == mj + 1) continue;
      const Split sp = best_split(r, split[j], split[j + 1]);
      if (sp.gain > top.gain) top = sp, sj = j;
    }
    if (sj == k || top.gain <= merge_cost * (1 + 1e-9) + 1e-300) return;
    // Rebuild the centers: merged pair, split cluster, the rest unchanged.
    unsigned m = 0;
    double nc[kMaxCenters];
    for (unsigned j = 0; j < k; ++j) {
      if (j == mj + 1) continue;
      if (j == mj) {
        nc[m++] = split[j + 2] > split[j] ? mean(r, split[j], split[j + 2]) : c[j];
      } else if (j == sj) {
        nc[m++] = mean(r, top.a, top.s);
        nc[m++] = mean(r, top.s, top.b);
      } else {
        nc[m++] = split[j + 1] > split[j] ? mean(r, split[j], split[j + 1]) : c[j];
      }
    }
    std::sort(nc, nc + k);
    std::copy(nc, nc + k, c);
    lloyd(r, a, b, k, c, iters);
  }
}

unsigned distinct_fill(const Run& r, uint32_t a, uint32_t b, unsigned k, double* c) {
  // Fewer distinct values than centers: one center per value is optimal.
  unsigned m = 0;
  for (uint32_t i = a; i < b && m <= k; ++i)
    if (m == 0 || double(r.v[i]) != c[m - 1]) {
      if (m == k) return k + 1;
      c[m++] = r.v[i];
    }
  return m;
}

void pad(double* c, unsigned m, unsigned k) {
  for (unsigned j = m; j < k; ++j) c[j] = m ? c[m - 1] : 0.0;
}

}  // namespace

double sse_nearest(const Run& r, uint32_t a, uint32_t b, const double* c, unsigned k) {
  double e = 0;
  uint32_t lo = a;
  for (unsigned j = 0; j < k; ++j) {
    const uint32_t hi = j + 1 < k ? r.upper(lo, b, 0.5 * (c[j] + c[j + 1])) : b;
    if (hi > lo) {
      const double n = hi - lo, s = r.sum(lo, hi);
      e += r.sumsq(lo, hi) - 2 * c[j] * s + c[j] * c[j] * n;
    }
    lo = hi;
  }
  return e > 0 ? e : 0;
}

double kmeans1d(const Run& r, uint32_t a, uint32_t b, unsigned k, const KmeansConfig& cfg, double* c) {
  if (b <= a) {
    pad(c, 0, k);
    return 0;
  }
  const unsigned d = distinct_fill(r, a, b, k, c);
  if (d <= k) {
    pad(c, d, k);
    return 0;
  }
  if (cfg.exact_max_n && b - a <= cfg.exact_max_n) return kmeans1d_exact(r, a, b, k, c);
  if (cfg.init == KmeansInit::kAtomDp && k <= cfg.atom_dp_max_k)
    return kmeans1d_atoms(r, a, b, k, cfg.atoms_per_center, cfg.max_iters, c);
  unsigned m = cfg.init == KmeansInit::kQuantile ? quantile_init(r, a, b, k, c) : greedy_split_init(r, a, b, k, c);
  lloyd(r, a, b, m, c, cfg.max_iters);
  if (m == k) split_merge(r, a, b, k, c, cfg.split_merge_rounds, cfg.max_iters);
  pad(c, m, k);
  return sse_nearest(r, a, b, c, k);
}

namespace {

// The cost of a cluster of atoms [s, i): the same arithmetic as Run::sse on
// values [bnd[s], bnd[i]), from copies of the prefix sums and positions at the
// atom boundaries (contiguous, branch-free: the DP's inner loop vectorizes).
struct AtomSums {
  const double* s1;
  const double* s2;
  const double* pos;  // bnd as doubles: differences are exact counts
  double sse(uint32_t s, uint32_t i) const {
    const double n = pos[i] - pos[s], sum = s1[i] - s1[s];
    double e = (s2[i] - s2[s]) - sum * sum / n;
    e = e > 0 ? e : 0.0;
    return n > 1 ? e : 0.0;
  }
};

// One DP layer: cur[i] = min_{s < i} prev[s] + cost(s, i) for i in [lo, hi],
// with the optimal s monotone in i (the SSE cost satisfies the quadrangle
// inequality), so divide and conquer finds every argmin in O(n log n).
// Positions are atom boundaries: cost(s, i) = SSE of values [bnd[s], bnd[i]).
struct DpLayer {
  const AtomSums& as;
  const double* prev;
  double* cur;
  uint32_t* arg;
  double* scratch;  // m + 1 candidate values
  void solve(uint32_t lo, uint32_t hi, uint32_t olo, uint32_t ohi) {
    if (lo > hi) return;
    const uint32_t mid = lo + (hi - lo) / 2;
    const uint32_t bs = best_at(mid, olo, ohi);
    if (mid > lo) solve(lo, mid - 1, olo, bs);
    solve(mid + 1, hi, bs, ohi);
  }
  // Only cur[hi] and arg[hi] (the last layer needs nothing else): the right
  // spine of solve(lo, hi, olo, ohi), the same cells with the same brackets.
  void solve_last(uint32_t lo, uint32_t hi, uint32_t olo, uint32_t ohi) {
    while (lo <= hi) {
      const uint32_t mid = lo + (hi - lo) / 2;
      olo = best_at(mid, olo, ohi);
      lo = mid + 1;
    }
  }
  // cur[mid] and arg[mid] from the candidates s in [olo, min(ohi, mid - 1)].
  uint32_t best_at(uint32_t mid, uint32_t olo, uint32_t ohi) {
    const uint32_t last = std::min(ohi, mid - 1);
    // Every candidate first (independent: vectorizes), then the first
    // minimum in order, as a single scan would pick it.
    const double* s1 = as.s1;
    const double* s2 = as.s2;
    const double* pos = as.pos;
    const double* pv = prev;
    double* out = scratch;
    const double s1m = s1[mid], s2m = s2[mid], pm = pos[mid];
    for (size_t s = olo, end = size_t(last) + 1; s < end; ++s) {
      // AtomSums::sse(s, mid), spelled out on hoisted loads.
      const double n = pm - pos[s], sum = s1m - s1[s];
      double e = (s2m - s2[s]) - sum * sum / n;
      e = e > 0 ? e : 0.0;
      out[s] = pv[s] + (n > 1 ? e : 0.0);
    }
    // The minimum in four independent lanes (a min is exact, so lane order
    // cannot change it; candidates are finite or +inf, never NaN or -0), then
    // its first position: the cell a single in-order scan would pick.
    const double inf = std::numeric_limits<double>::infinity();
    double m[4] = {inf, inf, inf, inf};
    size_t s = olo;
    for (; s + 4 <= size_t(last) + 1; s += 4)
      for (unsigned l = 0; l < 4; ++l) m[l] = scratch[s + l] < m[l] ? scratch[s + l] : m[l];
    for (; s <= last; ++s) m[0] = scratch[s] < m[0] ? scratch[s] : m[0];
    const double best = std::min(std::min(m[0], m[1]), std::min(m[2], m[3]));
    uint32_t bs = olo;
    while (bs < last && scratch[bs] != best) ++bs;
    cur[mid] = best;
    arg[mid] = bs;
    return bs;
  }
};

// Optimal k clusters whose boundaries are restricted to bnd[0..m] (m atoms, m > k).
void dp_over_atoms(const Run& r, const uint32_t* bnd, uint32_t m, unsigned k, double* c) {
  const double inf = std::numeric_limits<double>::infinity();
  // Reused per thread: a fit runs once per (row, group, outlier count).
  thread_local std::vector<double> prev, cur, a1, a2, pos, scratch;
  thread_local std::vector<uint32_t> arg;
  prev.assign(m + 1, inf);
  cur.assign(m + 1, inf);
  a1.resize(m + 1);
  a2.resize(m + 1);
  pos.resize(m + 1);
  scratch.resize(m + 1);
  arg.assign(size_t(k) * (m + 1), 0);
  for (uint32_t i = 0; i <= m; ++i) {
    a1[i] = r.s1[bnd[i]];
    a2[i] = r.s2[bnd[i]];
    pos[i] = bnd[i];
  }
  const AtomSums as{a1.data(), a2.data(), pos.data()};
  for (uint32_t i = 1; i <= m; ++i) prev[i] = as.sse(0, i);
  for (unsigned j = 1; j < k; ++j) {
    std::fill(cur.begin(), cur.end(), inf);
    DpLayer layer{as, prev.data(), cur.data(), arg.data() + size_t(j) * (m + 1), scratch.data()};
    if (j + 1 < k)
      layer.solve(j + 1, m, j, m - 1);
    else
      layer.solve_last(j + 1, m, j, m - 1);
    prev.swap(cur);
  }
  uint32_t end = m;
  for (unsigned j = k; j-- > 0;) {
    const uint32_t start = j ? arg[size_t(j) * (m + 1) + end] : 0;
    c[j] = mean(r, bnd[start], bnd[end]);
    end = start;
  }
}

}  // namespace

double kmeans1d_exact(const Run& r, uint32_t a, uint32_t b, unsigned k, double* c) {
  const uint32_t n = b - a;
  const unsigned d = distinct_fill(r, a, b, k, c);
  if (n == 0 || d <= k) {
    pad(c, n ? d : 0, k);
    return 0;
  }
  std::vector<uint32_t> bnd(n + 1);
  for (uint32_t i = 0; i <= n; ++i) bnd[i] = a + i;
  dp_over_atoms(r, bnd.data(), n, k, c);
  return sse_nearest(r, a, b, c, k);
}

double kmeans1d_atoms(const Run& r, uint32_t a, uint32_t b, unsigned k, unsigned atoms_per_center, unsigned iters,
                      double* c) {
  const unsigned d = distinct_fill(r, a, b, k, c);
  if (b <= a || d <= k) {
    pad(c, b > a ? d : 0, k);
    return 0;
  }
  // Atoms: runs of the sorted values, closed when they reach 1/m of the count
  // or 1/m of the value range, so both the dense middle and the sparse tails
  // are resolved (at most 2m atoms).
  const uint32_t m = k * atoms_per_center, n = b - a;
  const uint32_t cmax = std::max<uint32_t>(1, n / m);
  const double wmax = (double(r.v[b - 1]) - r.v[a]) / m;
  thread_local std::vector<uint32_t> bnd;
  bnd.assign(1, a);
  // An atom starting at s closes at the first i > s with i - s >= cmax or
  // v[i] - v[s] > wmax. The second test is monotone in i (sorted values), so
  // a binary search over (s, s + cmax) finds the same i as a scan.
  for (uint32_t s = a;;) {
    const uint32_t lim = uint32_t(std::min<uint64_t>(uint64_t(s) + cmax, b));
    const double vs = r.v[s];
    uint32_t lo = s + 1, len = lim > lo ? lim - lo : 0;  // first i in [lo, lim) with the gap
    while (len > 0) {
      const uint32_t half = len / 2;
      if (double(r.v[lo + half]) - vs > wmax) {
        len = half;
      } else {
        lo += half + 1;
        len -= half + 1;
      }
    }
    if (lo >= b) break;
    bnd.push_back(lo);
    s = lo;
  }
  bnd.push_back(b);
  const uint32_t atoms = uint32_t(bnd.size() - 1);
  if (atoms <= k) {
    for (unsigned j = 0; j < atoms; ++j) c[j] = mean(r, bnd[j], bnd[j + 1]);
    lloyd(r, a, b, atoms, c, iters);
    pad(c, atoms, k);
  } else {
    dp_over_atoms(r, bnd.data(), atoms, k, c);
    lloyd(r, a, b, k, c, iters);
  }
  return sse_nearest(r, a, b, c, k);
}

double kmeans1d_reference_sse(const float* sorted, uint32_t n, unsigned k) {
  std::vector<double> s1(n + 1), s2(n + 1);
  prefix_sums(sorted, n, s1.data(), s2.data());
  const Run r{sorted, s1.data(), s2.data(), n};
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> prev(n + 1, inf), cur(n + 1);
  prev[0] = 0;
  for (uint32_t i = 1; i <= n; ++i) prev[i] = r.sse(0, i);
  for (unsigned j = 1; j < k; ++j) {
    for (uint32_t i = 0; i <= n; ++i) {
      double best = prev[i];  // an empty cluster is allowed
      for (uint32_t s = 0; s < i; ++s) best = std::min(best, prev[s] + r.sse(s, i));
      cur[i] = best;
    }
    prev.swap(cur);
  }
  return prev[n];
}

}  // namespace lutc::xfp

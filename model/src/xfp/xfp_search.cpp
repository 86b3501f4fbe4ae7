// quantize_xfp: per-row floors, the (bits, outliers, mode) search and the
// final encode with an exact floor check. docs/xfp.md describes the rules.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <sstream>

#include "lutc/model/bitpack.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/quantize.h"
#include "xfp/xfp_fitter.h"
#include "xfp/xfp_parallel.h"
#include "xfp/xfp_reach_bound.h"

namespace lutc {
using namespace xfp;

namespace {

constexpr unsigned kBitsAscending[] = {2, 3, 4, 5, 6, 8};
constexpr unsigned kDefaultLloydIters = 64;
// Rows up to this long get the exact DP codebook (cheap there, and the
// per-row codebook is a large share of their cost).
constexpr uint32_t kExactMaxN = 256;
constexpr float kDeadBelow = 2.98023223876953125e-08f;  // 2^-25, as metrics.h
constexpr float kTinyBelow = 6.103515625e-05f;          // 2^-14, as metrics.h

// max |x| over n values, branch-free in 8 independent lanes (vectorizes; a
// max is exact, so the lane order does not matter). |x| is taken on the bit
// pattern and compared as an integer, which orders non-negative floats and
// puts Inf and NaN above every finite value: the maximum also says whether
// any value was non-finite.
float abs_max(const float* x, uint32_t n, bool* non_finite) {
  uint32_t lane[8] = {};
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (unsigned j = 0; j < 8; ++j) {
      uint32_t u;
      std::memcpy(&u, x + i + j, 4);
      u &= 0x7fffffffu;
      lane[j] = u > lane[j] ? u : lane[j];
    }
  uint32_t m = 0;
  for (; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, x + i, 4);
    u &= 0x7fffffffu;
    m = u > m ? u : m;
  }
  for (uint32_t l : lane) m = l > m ? l : m;
  *non_finite = m >= 0x7f800000u;
  float f;
  std::memcpy(&f, &m, 4);
  return f;
}

// Short tags (they are stored per layer); docs/xfp.md "Outliers" spells them out.
const char* kOutlierRule = "median-distance/ladder";

// 0, 1, 2, 3, 4, 6, 9, 13, ... up to cols / 8: an outlier costs 32 bits
// (fp16 value + u16 column), so past an eighth of a row (4 bits per weight)
// more outliers cost more than a wider index.
std::vector<uint32_t> outlier_ladder(uint32_t cols) {
  const uint32_t cap = std::max<uint32_t>(1, cols / 8);
  std::vector<uint32_t> v{0};
  for (uint32_t m = 1; m < cap; m = m < 4 ? m + 1 : m + m / 2) v.push_back(m);
  v.push_back(cap);
  return v;
}

struct Context {
  const float* w = nullptr;
  uint32_t rows = 0, cols = 0;
  XfpOptions opt;
  unsigned threads = 1;
  bool searching = false;         // floors drive the search (bits = 0)
  double floor = 0;               // the layer's floor (0 when bits are fixed)
  std::vector<double> row_floor;  // per row; < 0 for dead rows
  std::vector<uint8_t> live;
  uint32_t dead = 0, tiny = 0;
  bool zero_groups = false;  // any dead row or all-zero group of 128
  std::vector<uint32_t> ladder;
  int fixed_count = -1;  // outliers per row when the fraction is fixed
  KmeansConfig kcfg;
  std::unique_ptr<SortedMatrix> sorted[2];  // v2, v2a
  std::vector<uint32_t> hard_rows;          // rows that missed their floor in some pass
  void note_hard_row(uint32_t r) {
    if (std::find(hard_rows.begin(), hard_rows.end(), r) == hard_rows.end()) hard_rows.push_back(r);
  }

  uint32_t v2_group() const { return opt.group && opt.group < cols ? opt.group : cols; }
  uint32_t layer_group(Scheme s) const { return s == Scheme::kXfpV2a ? kV2aGroup : v2_group(); }
  const SortedMatrix& sorted_for(Scheme s) {
    const int i = s == Scheme::kXfpV2a ? 1 : 0;
    if (!sorted[i]) sorted[i] = std::make_unique<SortedMatrix>(sort_matrix(w, rows, cols, layer_group(s), threads));
    return *sorted[i];
  }
  uint64_t cost(Scheme s, unsigned b, uint64_t outliers) const {
    return xfp_cost_bits(s, rows, cols, b, layer_group(s), outliers);
  }
};

struct Plan {
  Scheme mode = Scheme::kXfpV2;
  unsigned bits = 0;
  std::vector<uint32_t> counts;
  std::vector<uint16_t> library;
  std::vector<uint8_t> ids;  // v2a: [rows][groups] ids the search chose at counts[r]
  bool feasible = false;
  uint64_t cost = std::numeric_limits<uint64_t>::max();
  double worst_margin = std::numeric_limits<double>::infinity();
};

std::unique_ptr<RowFitter> make_fitter(Context& ctx, const Plan& p) {
  const SortedMatrix& m = ctx.sorted_for(p.mode);
  if (p.mode == Scheme::kXfpV2a) return std::make_unique<V2aFitter>(m, p.bits, p.library);
  return std::make_unique<V2Fitter>(m, p.bits, ctx.kcfg);
}

struct RowResult {
  uint32_t count;
  double cos;
  bool ok;
};

// Smallest outlier count meeting the floor: try none, then the cap (is it
// reachable at all?), then bisect; quality grows with the count.
RowResult search_row(const Context& ctx, RowFitter& f, double floor) {
  if (ctx.fixed_count >= 0) {
    const double c = f.eval(uint32_t(ctx.fixed_count));
    return {uint32_t(ctx.fixed_count), c, c >= floor};
  }
  const auto& L = ctx.ladder;
  const double c0 = f.eval(0);
  if (c0 >= floor || !ctx.searching) return {0, c0, c0 >= floor};
  size_t hi = L.size() - 1;
  double chi = f.eval(L[hi]);
  if (chi < floor) return {L[hi], chi, false};
  size_t lo = 0;
  while (hi - lo > 1) {
    const size_t mid = (lo + hi) / 2;
    const double c = f.eval(L[mid]);
    if (c >= floor)
      hi = mid, chi = c;
    else
      lo = mid;
  }
  // The ladder brackets the answer; every outlier costs 32 bits, so the
  // smallest count inside the bracket is worth a few more evaluations.
  uint32_t miss = L[lo], meet = L[hi];
  while (meet - miss > 1) {
    const uint32_t mid = miss + (meet - miss) / 2;
    const double c = f.eval(mid);
    if (c >= floor)
      meet = mid, chi = c;
    else
      miss = mid;
  }
  return {meet, chi, true};
}

// Evaluates every live row for (mode, bits). With `bound`, gives up as soon as
// a row misses its floor or the partial cost passes the bound.
void run_pass(Context& ctx, Plan& p, uint64_t bound, bool may_abort) {
  const SortedMatrix& m = ctx.sorted_for(p.mode);
  p.counts.assign(ctx.rows, 0);
  const bool v2a = p.mode == Scheme::kXfpV2a;
  if (v2a) {
    p.library = build_v2a_library(m, p.bits, p.counts, ctx.live, ctx.zero_groups, ctx.threads);
    p.ids.assign(size_t(ctx.rows) * m.groups, 0);
  }
  std::atomic<bool> abort{false};
  std::atomic<uint64_t> outliers{0};
  std::mutex mu;
  double worst = std::numeric_limits<double>::infinity();
  const uint64_t base = ctx.cost(p.mode, p.bits, 0);
  if (may_abort && !ctx.hard_rows.empty()) {
    // Rows that missed a floor before are the likeliest to miss this one: a
    // candidate that fails there is rejected before the pass over the layer.
    // Only the verdict is taken from here; the pass below redoes these rows.
    auto f = make_fitter(ctx, p);
    for (uint32_t r : ctx.hard_rows) {
      f->load(r);
      if (!search_row(ctx, *f, ctx.row_floor[r]).ok) {
        p.feasible = false;
        p.cost = std::numeric_limits<uint64_t>::max();
        return;
      }
    }
  }
  parallel_rows(ctx.rows, ctx.threads, [&](uint32_t r0, uint32_t r1) {
    auto f = make_fitter(ctx, p);
    double local_worst = std::numeric_limits<double>::infinity();
    uint64_t local_out = 0;
    for (uint32_t r = r0; r < r1 && !abort.load(std::memory_order_relaxed); ++r) {
      if (!ctx.live[r]) continue;
      f->load(r);
      const RowResult res = search_row(ctx, *f, ctx.row_floor[r]);
      p.counts[r] = res.count;
      if (v2a) {
        // The search may have ended on another count; the groups it changed
        // are rescored from cached ranks.
        f->eval(res.count);
        const auto& v = static_cast<const V2aFitter&>(*f);
        for (uint32_t g = 0; g < m.groups; ++g) p.ids[size_t(r) * m.groups + g] = v.group_id(g);
      }
      local_out += res.count;
      local_worst = std::min(local_worst, res.cos - ctx.row_floor[r]);
      if (may_abort && (!res.ok || base + 32 * local_out > bound)) abort = true;
      if (may_abort && !res.ok) {
        std::lock_guard<std::mutex> lock(mu);
        ctx.note_hard_row(r);
      }
    }
    outliers += local_out;
    std::lock_guard<std::mutex> lock(mu);
    worst = std::min(worst, local_worst);
  });
  p.worst_margin = worst;
  p.feasible = !abort && worst >= 0;
  p.cost = ctx.cost(p.mode, p.bits, outliers);
}

// True when no v2a library at `bits` can meet the floor: some row misses it
// even with its own optimal codebook per group and the most outliers the
// search allows. Rows that missed a floor in an earlier pass are the likely
// witnesses; the first live rows cover a search that has had no pass yet.
bool v2a_out_of_reach(Context& ctx, unsigned bits) {
  constexpr size_t kProbeRows = 8;
  std::vector<uint32_t> probe(ctx.hard_rows);
  for (uint32_t r = 0; r < ctx.rows && probe.size() < ctx.hard_rows.size() + kProbeRows; ++r)
    if (ctx.live[r]) probe.push_back(r);
  std::sort(probe.begin(), probe.end());
  probe.erase(std::unique(probe.begin(), probe.end()), probe.end());
  const uint32_t count = ctx.fixed_count >= 0 ? uint32_t(ctx.fixed_count) : ctx.ladder.back();
  const SortedMatrix& m = ctx.sorted_for(Scheme::kXfpV2a);
  for (uint32_t r : probe)
    if (v2a_cosine_bound(m, r, bits, count) < ctx.row_floor[r] - 1e-9) {
      ctx.note_hard_row(r);
      return true;
    }
  return false;
}

// Also the input check that needs the values: a non-finite weight is an
// error naming its row and column, found in the pass over the row maxima.
Context make_context(const std::string& name, const float* w, uint32_t rows, uint32_t cols, Role role,
                     const XfpOptions& opt) {
  Context ctx;
  ctx.w = w;
  ctx.rows = rows;
  ctx.cols = cols;
  ctx.opt = opt;
  ctx.threads = std::max(1u, opt.threads);
  ctx.searching = opt.bits == 0;
  ctx.floor = ctx.searching ? (role_uses_lazy_floor(role) ? opt.floor_lazy : opt.floor_strict) : 0;
  ctx.ladder = outlier_ladder(cols);
  if (opt.outlier_fraction >= 0)
    ctx.fixed_count = int(std::min<double>(cols, std::llround(opt.outlier_fraction * cols)));
  ctx.kcfg.max_iters = opt.lloyd_iters ? opt.lloyd_iters : kDefaultLloydIters;
  ctx.kcfg.exact_max_n = kExactMaxN;
  ctx.row_floor.assign(rows, ctx.floor);
  ctx.live.assign(rows, 1);
  for (uint32_t r = 0; r < rows; ++r) {
    const float* row = w + size_t(r) * cols;
    // One pass: max |w| per group of 128 gives the dead row, the all-zero
    // group and the tiny row tests (row_is_dead / row_is_tiny thresholds).
    float row_max = 0;
    for (uint32_t g0 = 0; g0 < cols; g0 += kV2aGroup) {
      bool non_finite = false;
      const float gmax = abs_max(row + g0, std::min(kV2aGroup, cols - g0), &non_finite);
      if (non_finite) {
        for (uint32_t c = g0;; ++c)
          if (!std::isfinite(row[c]))
            throw Error(ExitCode::kBadInput, located("", name, -1,
                                                     "quantize_xfp: non-finite weight at row " + std::to_string(r) +
                                                         ", column " + std::to_string(c)));
      }
      if (!(gmax >= kDeadBelow)) ctx.zero_groups = true;
      row_max = gmax > row_max ? gmax : row_max;
    }
    if (!(row_max >= kDeadBelow)) {
      ctx.live[r] = 0;
      ctx.row_floor[r] = -1;
      ++ctx.dead;
      continue;
    }
    if (row_max < kTinyBelow) {
      // fp16 itself loses precision here: allow twice the loss of rounding
      // the row to fp16 below the floor.
      ++ctx.tiny;
      std::vector<float> h(row, row + cols);
      for (float& x : h) x = round_to_half(x);
      const double c16 = row_cosine(row, h.data(), cols);
      ctx.row_floor[r] = std::min(ctx.floor, 2 * c16 - 1);
    }
  }
  return ctx;
}

// Options and shape; make_context checks the values.
void check_input(const std::string& name, uint32_t rows, uint32_t cols, const XfpOptions& opt) {
  auto bad = [&](ExitCode c, const std::string& what) {
    throw Error(c, located("", name, -1, "quantize_xfp: " + what));
  };
  if (!is_xfp(opt.mode)) bad(ExitCode::kUsage, "mode must be xfp.v2 or xfp.v2a");
  if (opt.bits && !valid_index_bits(opt.bits)) bad(ExitCode::kUsage, "bits must be 0 or one of 2,3,4,5,6,8");
  if (!(opt.floor_strict > 0 && opt.floor_strict <= 1 && opt.floor_lazy > 0 && opt.floor_lazy <= 1))
    bad(ExitCode::kUsage, "floors must be in (0, 1]");
  if (!opt.bits && opt.max_bits < 2) bad(ExitCode::kUsage, "max_bits must be >= 2");
  if (opt.outlier_fraction > 1) bad(ExitCode::kUsage, "outlier_fraction must be <= 1");
  if (rows == 0 || cols == 0) bad(ExitCode::kBadInput, "empty matrix");
}

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

}  // namespace

namespace {

// The candidate (mode, bits) configurations, in the order a tie in cost goes to.
struct Candidates {
  std::vector<Scheme> modes;
  std::vector<unsigned> bits;
};

Candidates candidates_of(const XfpOptions& opt) {
  Candidates c;
  c.modes = opt.auto_mode ? std::vector<Scheme>{Scheme::kXfpV2, Scheme::kXfpV2a} : std::vector<Scheme>{opt.mode};
  if (opt.bits)
    c.bits = {opt.bits};
  else
    for (unsigned b : kBitsAscending)
      if (b <= opt.max_bits) c.bits.push_back(b);
  return c;
}

// The cheapest configuration that meets the floor; when none does, the widest
// index with outliers at the cap for failing rows, in the mode that comes
// closest. `tried` counts the configurations evaluated.
Plan search_plan(Context& ctx, const Candidates& cand, uint32_t rows, unsigned* tried) {
  const std::vector<Scheme>& modes = cand.modes;
  Plan best;
  const bool single = modes.size() == 1 && cand.bits.size() == 1;
  // The first configuration in (bits, mode) order wins a tie in cost, whatever
  // order they are evaluated in.
  auto order = [&](const Plan& p) {
    return std::make_pair(p.bits, std::find(modes.begin(), modes.end(), p.mode) - modes.begin());
  };
  // One mode at a time, so only one sorted layer (twice the size of the
  // weights) is held at once: with both, a 32000 x 4096 classifier alone
  // needed 2.7 GB. A mode's sorted layer is dropped when its search is done;
  // the final encode sorts again if that mode won.
  for (Scheme s : modes) {
    for (unsigned b : cand.bits) {
      // Wider indices only cost more: stop once the index bits alone lose.
      if (best.feasible && ctx.cost(s, b, 0) >= best.cost) break;
      Plan p;
      p.mode = s;
      p.bits = b;
      if (single) {  // nothing to choose between: encode straight away
        p.counts.assign(rows, ctx.fixed_count > 0 ? uint32_t(ctx.fixed_count) : 0);
        if (s == Scheme::kXfpV2a)
          p.library = build_v2a_library(ctx.sorted_for(s), b, p.counts, ctx.live, ctx.zero_groups, ctx.threads);
        p.feasible = true;
      } else if (s == Scheme::kXfpV2a && v2a_out_of_reach(ctx, b)) {
        p.feasible = false;  // what its pass would find, without building a library
      } else {
        run_pass(ctx, p, best.feasible ? best.cost : std::numeric_limits<uint64_t>::max(), true);
      }
      ++*tried;
      if (p.feasible && (!best.feasible || p.cost < best.cost || (p.cost == best.cost && order(p) < order(best))))
        best = std::move(p);
    }
    if (s != modes.back()) ctx.sorted[s == Scheme::kXfpV2a ? 1 : 0].reset();
  }
  if (!best.feasible) {
    for (Scheme s : modes) {
      Plan p;
      p.mode = s;
      p.bits = cand.bits.back();
      run_pass(ctx, p, std::numeric_limits<uint64_t>::max(), false);
      ++*tried;
      if (best.bits == 0 || p.worst_margin > best.worst_margin) best = std::move(p);
    }
  }
  return best;
}

// The per-row outlier lists as the layer's CSR residual; the count.
uint64_t gather_outliers(const std::vector<RowOutliers>& outl, QuantizedLayer& L) {
  uint64_t total = 0;
  for (const auto& o : outl) total += o.col.size();
  if (!total) return 0;
  L.outliers.row_ptr.resize(size_t(L.rows) + 1, 0);
  L.outliers.col.reserve(total);
  L.outliers.val.reserve(total);
  for (uint32_t r = 0; r < L.rows; ++r) {
    L.outliers.col.insert(L.outliers.col.end(), outl[r].col.begin(), outl[r].col.end());
    L.outliers.val.insert(L.outliers.val.end(), outl[r].val.begin(), outl[r].val.end());
    L.outliers.row_ptr[r + 1] = uint32_t(L.outliers.col.size());
  }
  return total;
}

// The layer's fields from the plan, its index bytes and tables sized (zero):
// the encode fills them row by row.
QuantizedLayer planned_layer(const Context& ctx, const Plan& best, const std::string& name, Role role, uint32_t rows,
                             uint32_t cols) {
  QuantizedLayer L;
  L.name = name;
  L.role = role;
  L.rows = rows;
  L.cols = cols;
  L.scheme = best.mode;
  L.bits = uint8_t(best.bits);
  L.group = ctx.layer_group(best.mode);
  const unsigned k = 1u << best.bits;
  const uint32_t G = L.groups_per_row();
  L.indices.assign(packed_bytes(L.elements(), L.bits), 0);
  if (best.mode == Scheme::kXfpV2a) {
    L.codebooks = best.library;
    L.group_ids.assign(size_t(rows) * G, uint8_t(ctx.zero_groups ? kV2aLibrarySize - 1 : 0));
  } else {
    L.codebooks.assign(size_t(rows) * G * k, 0);
  }
  return L;
}

// One worker's fitter. Row at a time, it fits the single sorted row
// one_row, which the caller keeps alive and sorts before each load(0).
std::unique_ptr<RowFitter> row_fitter(Context& ctx, const Plan& best, const QuantizedLayer& L, bool row_at_a_time,
                                      SortedMatrix* one_row) {
  if (!row_at_a_time) return make_fitter(ctx, best);
  // With one whole-row group, no outliers (none fixed, no floor to add
  // them for) and few entries the codes are assigned by value: no
  // permutation to sort along (same codes).
  const bool by_value = L.groups_per_row() == 1 && (1u << best.bits) <= 16 && ctx.fixed_count <= 0 && !ctx.searching;
  *one_row = sorted_matrix_storage(1, L.cols, ctx.v2_group(), !by_value);
  return std::make_unique<V2Fitter>(*one_row, best.bits, ctx.kcfg);
}

// Row r (loaded into f) encoded at its planned outlier count, then, when
// floors drive the search, at the ladder's next counts until its decoded
// cosine meets the row floor. dec is scratch of cols values.
void encode_row(const Context& ctx, const Plan& best, RowFitter& f, uint32_t r, const float* wrow,
                const QuantizedLayer& L, uint8_t* crow, RowOutliers* outl, std::vector<float>& dec, double* cosine) {
  const uint32_t G = L.groups_per_row();
  uint32_t count = best.counts[r];
  // v2a rows start from the ids the search already chose at this count.
  bool known_ids = !best.ids.empty();
  for (;;) {
    if (known_ids)
      static_cast<V2aFitter&>(f).use_ids(count, best.ids.data() + size_t(r) * G);
    else
      f.eval(count);
    known_ids = false;
    f.encode(wrow, crow, outl);
    if (!ctx.searching) break;  // no floor to check against
    decode_row(crow, L.cols, L.group, f.group_cb().data(), *outl, dec.data());
    *cosine = row_cosine(wrow, dec.data(), L.cols);
    if (*cosine >= ctx.row_floor[r] || ctx.fixed_count >= 0) break;
    auto next = std::upper_bound(ctx.ladder.begin(), ctx.ladder.end(), count);
    if (next == ctx.ladder.end()) break;
    count = *next;
  }
}

// Row r's codebooks (v2) or library ids (v2a) from its last encode.
void store_row_tables(const RowFitter& f, uint32_t r, QuantizedLayer* L) {
  const uint32_t G = L->groups_per_row();
  const unsigned k = 1u << L->bits;
  for (uint32_t g = 0; g < G; ++g) {
    if (L->scheme == Scheme::kXfpV2a) {
      L->group_ids[size_t(r) * G + g] = static_cast<const V2aFitter&>(f).group_id(g);
    } else {
      std::copy(f.group_cb()[g], f.group_cb()[g] + k, L->codebooks.begin() + (size_t(r) * G + g) * k);
    }
  }
}

// The final encode of `best`, with the exact check: rows whose decoded cosine
// misses the floor (the estimate ignores fp16 residual rounding) take more
// outliers. `cosines` gets each row's decoded cosine (1 where not checked).
QuantizedLayer encode_plan(Context& ctx, const Plan& best, const std::string& name, Role role, const float* w,
                           uint32_t rows, uint32_t cols, std::vector<double>* cosines) {
  QuantizedLayer L = planned_layer(ctx, best, name, role, rows, cols);
  // Nothing sorted yet (one fixed v2 configuration): sort each row as it is
  // encoded rather than holding the sorted layer.
  const bool row_at_a_time = best.mode == Scheme::kXfpV2 && !ctx.sorted[0];
  // When rows start on whole bytes of the index stream, each row is packed as
  // soon as it is encoded (no codes buffer the size of the matrix).
  const bool pack_rows = uint64_t(cols) * best.bits % 8 == 0;
  std::vector<uint8_t> codes(pack_rows ? 0 : size_t(rows) * cols, 0);
  std::vector<RowOutliers> outl(rows);
  cosines->assign(rows, 1.0);
  parallel_rows(rows, ctx.threads, [&](uint32_t r0, uint32_t r1) {
    SortedMatrix one_row;
    const std::unique_ptr<RowFitter> f = row_fitter(ctx, best, L, row_at_a_time, &one_row);
    std::vector<float> dec(cols);
    std::vector<uint8_t> row_codes(pack_rows ? cols : 0);
    for (uint32_t r = r0; r < r1; ++r) {
      if (!ctx.live[r]) continue;
      const float* wrow = w + size_t(r) * cols;
      uint8_t* crow = pack_rows ? row_codes.data() : codes.data() + size_t(r) * cols;
      if (row_at_a_time) {
        sort_row(wrow, 0, &one_row);
        f->load(0);
      } else {
        f->load(r);
      }
      encode_row(ctx, best, *f, r, wrow, L, crow, &outl[r], dec, &(*cosines)[r]);
      if (pack_rows) pack_indices(crow, cols, L.bits, L.indices.data() + uint64_t(r) * cols * L.bits / 8);
      store_row_tables(*f, r, &L);
    }
  });
  if (!pack_rows) pack_indices(codes.data(), L.elements(), L.bits, L.indices.data());
  gather_outliers(outl, L);
  return L;
}

// What was chosen and how close it came, as XfpChoice and as the layer's
// params (the .xfp records them; docs/xfp.md).
XfpChoice record_choice(const Context& ctx, const XfpOptions& opt, const std::vector<double>& cosines, unsigned tried,
                        QuantizedLayer& L) {
  XfpChoice c;
  c.mode = L.scheme;
  c.bits = L.bits;
  c.outlier_fraction = double(L.outliers.count()) / double(L.elements());
  c.floor = ctx.floor;
  c.configs_tried = tried;
  double cos_min = 1, deficit = 0;
  for (uint32_t r = 0; r < L.rows; ++r) {
    if (!ctx.live[r]) continue;
    cos_min = std::min(cos_min, cosines[r]);
    if (ctx.searching) deficit = std::max(deficit, ctx.row_floor[r] - cosines[r]);
  }
  c.floor_met = deficit <= 0;
  c.shortfall = deficit;
  L.params["search"] = ctx.searching ? "auto" : "fixed";
  L.params["floor"] = fmt(ctx.floor);
  L.params["floor_met"] = c.floor_met ? "1" : "0";
  if (!c.floor_met) L.params["shortfall"] = fmt(c.shortfall);
  if (ctx.searching || opt.auto_mode) L.params["cos_min"] = fmt(cos_min);
  L.params["outlier_rule"] = ctx.fixed_count >= 0 ? "median-distance/fixed " + fmt(opt.outlier_fraction)
                                                  : (ctx.searching ? std::string(kOutlierRule) : std::string("none"));
  L.params["configs_tried"] = std::to_string(tried);
  L.params["dead_rows"] = std::to_string(ctx.dead);
  L.params["tiny_rows"] = std::to_string(ctx.tiny);
  return c;
}

}  // namespace

QuantizedLayer quantize_xfp(const std::string& name, Role role, const float* w, uint32_t rows, uint32_t cols,
                            const XfpOptions& opt, XfpChoice* choice) {
  check_input(name, rows, cols, opt);
  Context ctx = make_context(name, w, rows, cols, role, opt);
  unsigned tried = 0;
  const Plan best = search_plan(ctx, candidates_of(opt), rows, &tried);
  // The mode not chosen keeps nothing the final encode needs: its sorted layer
  // goes before the encode allocates its own (the fallback may have sorted
  // both again).
  ctx.sorted[best.mode == Scheme::kXfpV2a ? 0 : 1].reset();
  std::vector<double> cosines;
  QuantizedLayer L = encode_plan(ctx, best, name, role, w, rows, cols, &cosines);
  const XfpChoice c = record_choice(ctx, opt, cosines, tried, L);
  if (choice) *choice = c;
  return L;
}

}  // namespace lutc

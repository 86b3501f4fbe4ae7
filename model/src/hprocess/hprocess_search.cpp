// The H-Process search (docs/hprocess.md "Search"): relax lazy, then strict,
// along the ladder until the model fits; bisect the last step. A start that
// fits but is garbage raises strict, then lazy, while the model fits. Choose
// the fitting candidate with the most bytes (highest floors) that is not garbage.
#include <algorithm>
#include <chrono>
#include <tuple>

#include "lutc/model/hprocess.h"
#include "lutc/model/weights.h"

namespace lutc {
namespace {

bool any_lazy(const std::vector<Role>& roles) { return std::any_of(roles.begin(), roles.end(), role_uses_lazy_floor); }

bool stop_here(const HprocessPoint& p) { return p.fits || p.garbage; }

// The walk from the operator's floors: every candidate it evaluates is
// appended to the result's trajectory (and logged) in order.
class FloorWalk {
 public:
  FloorWalk(Hprocess& h, HprocessResult& r, const HprocessLog& log)
      : h_(h), opt_(h.options()), r_(r), log_(log), s_(opt_.floor_strict), l_(opt_.floor_lazy) {}

  void run(bool has_lazy) {
    last_ = eval(s_, l_, "start");
    if (last_.fits && last_.garbage) {
      // The operator's floors fit but generate garbage: spend the rest of the
      // budget on quality. Strict first (it was relaxed last on the way down),
      // then lazy up to strict.
      if (climb(false, 1.0) && has_lazy) climb(true, s_);
    } else {
      if (has_lazy) relax_lazy();
      relax_strict();
    }
  }
  // The start, or the last point of the way down.
  const HprocessPoint& last() const { return last_; }

 private:
  const HprocessPoint& eval(double s, double l, const char* step) {
    r_.trajectory.push_back(h_.evaluate(s, l, step));
    if (log_) log_(r_.trajectory.back());
    return r_.trajectory.back();
  }

  // Bisect one floor between `miss` (did not fit) and `fit`, keeping the other fixed.
  void bisect(bool lazy, double miss, double fit) {
    for (unsigned k = 0; k < opt_.bisect_steps; ++k) {
      const double mid = floor_midpoint(miss, fit);
      if (mid >= miss || mid <= fit) break;
      const HprocessPoint& p = lazy ? eval(s_, mid, "bisect-lazy") : eval(mid, std::min(l_, mid), "bisect-strict");
      (p.fits ? fit : miss) = mid;
    }
  }

  // Raise one floor up the ladder while the model fits, bisecting between the
  // last fit and the first miss; returns false when it missed (the budget is
  // used up), true when it reached the ladder's top (or `cap`) still fitting.
  bool climb(bool lazy, double cap) {
    double& f = lazy ? l_ : s_;
    for (;;) {
      const double up = std::min(next_higher_floor(f), cap);
      if (up <= f) return true;
      const HprocessPoint& p = lazy ? eval(s_, up, "raise-lazy") : eval(up, l_, "raise-strict");
      if (!p.fits) {
        bisect(lazy, up, f);
        return false;
      }
      f = up;
    }
  }

  void relax_lazy() {
    double prev = l_;
    while (!stop_here(last_) && l_ > opt_.lazy_min) {
      prev = l_;
      l_ = next_lower_floor(l_, opt_.lazy_min);
      last_ = eval(s_, l_, "relax-lazy");
    }
    if (last_.fits && prev != l_) bisect(true, prev, l_);
  }

  void relax_strict() {
    double prev = s_;
    while (!stop_here(last_) && s_ > opt_.floor_min) {
      prev = s_;
      s_ = next_lower_floor(s_, opt_.floor_min);
      l_ = std::min(l_, s_);
      last_ = eval(s_, l_, "relax-strict");
    }
    if (last_.fits && prev != s_ && r_.trajectory.back().step == std::string("relax-strict")) bisect(false, prev, s_);
  }

  Hprocess& h_;
  const HprocessOptions& opt_;
  HprocessResult& r_;
  const HprocessLog& log_;
  double s_, l_;  // the current strict and lazy floors
  HprocessPoint last_;
};

// The fitting, sensible point with the most bytes (then the highest floors);
// -1 when there is none.
int choose_point(const std::vector<HprocessPoint>& trajectory) {
  int chosen = -1;
  for (size_t i = 0; i < trajectory.size(); ++i) {
    const HprocessPoint& p = trajectory[i];
    if (!p.fits || p.garbage) continue;
    if (chosen < 0) {
      chosen = int(i);
      continue;
    }
    const HprocessPoint& c = trajectory[size_t(chosen)];
    if (std::make_tuple(p.need_bytes, p.floor_strict, p.floor_lazy) >
        std::make_tuple(c.need_bytes, c.floor_strict, c.floor_lazy))
      chosen = int(i);
  }
  return chosen;
}

// Floor, tensors and bpw per role of the chosen point's layers, by role name.
std::vector<RoleSummary> summarize_roles(const XfpFile& file, const HprocessPoint& c) {
  std::map<std::string, RoleSummary> by_role;
  std::map<std::string, uint64_t> bits;
  for (const QuantizedLayer& q : file.layers) {
    RoleSummary& rs = by_role[role_name(q.role)];
    rs.role = role_name(q.role);
    rs.floor = role_uses_lazy_floor(q.role) ? c.floor_lazy : c.floor_strict;
    ++rs.tensors;
    rs.elements += q.elements();
    bits[rs.role] += stored_bits(q);
  }
  std::vector<RoleSummary> roles;
  for (auto& [name, rs] : by_role) {
    rs.bpw = double(bits[name]) / double(rs.elements);
    roles.push_back(rs);
  }
  return roles;
}

// Why no point was chosen.
std::string verdict_without_choice(const std::vector<HprocessPoint>& trajectory, const HprocessPoint& last) {
  bool any_fit = false;
  for (const auto& p : trajectory) any_fit |= p.fits;
  if (any_fit) return "only garbage fits: every candidate within the budget crosses the garbage boundary";
  if (last.garbage) return "the garbage boundary was crossed before the budget was met";
  return "the budget is not met even at the lowest floors";
}

}  // namespace

HprocessResult Hprocess::run(const HprocessLog& log) {
  const auto t0 = std::chrono::steady_clock::now();
  HprocessResult r;
  r.model = file_->path();
  r.fp16_bytes = fp16_bytes();
  r.reference = ref_;
  FloorWalk walk(*this, r, log);
  walk.run(any_lazy(roles_));
  r.chosen = choose_point(r.trajectory);
  if (r.chosen >= 0) {
    const HprocessPoint& c = r.trajectory[size_t(r.chosen)];
    r.verdict = "fits and sensible";
    r.chosen_file = file_at(c.floor_strict, c.floor_lazy);
    r.chosen_roles = summarize_roles(r.chosen_file, c);
  } else {
    r.verdict = verdict_without_choice(r.trajectory, walk.last());
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace lutc

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

}  // namespace

HprocessResult Hprocess::run(const HprocessLog& log) {
  const auto t0 = std::chrono::steady_clock::now();
  HprocessResult r;
  r.model = file_->path();
  r.fp16_bytes = fp16_bytes();
  r.reference = ref_;
  auto eval = [&](double s, double l, const char* step) -> const HprocessPoint& {
    r.trajectory.push_back(evaluate(s, l, step));
    if (log) log(r.trajectory.back());
    return r.trajectory.back();
  };
  auto stop_here = [](const HprocessPoint& p) { return p.fits || p.garbage; };

  double s = opt_.floor_strict, l = opt_.floor_lazy;
  HprocessPoint last = eval(s, l, "start");
  const bool has_lazy = any_lazy(roles_);

  // Bisect one floor between `miss` (did not fit) and `fit`, keeping the other fixed.
  auto bisect = [&](bool lazy, double miss, double fit) {
    for (unsigned k = 0; k < opt_.bisect_steps; ++k) {
      const double mid = floor_midpoint(miss, fit);
      if (mid >= miss || mid <= fit) break;
      const HprocessPoint& p = lazy ? eval(s, mid, "bisect-lazy") : eval(mid, std::min(l, mid), "bisect-strict");
      (p.fits ? fit : miss) = mid;
    }
  };

  // Raise one floor up the ladder while the model fits, bisecting between the
  // last fit and the first miss; returns false when it missed (the budget is
  // used up), true when it reached the ladder's top (or `cap`) still fitting.
  auto climb = [&](bool lazy, double cap) {
    double& f = lazy ? l : s;
    for (;;) {
      const double up = std::min(next_higher_floor(f), cap);
      if (up <= f) return true;
      const HprocessPoint& p = lazy ? eval(s, up, "raise-lazy") : eval(up, l, "raise-strict");
      if (!p.fits) {
        bisect(lazy, up, f);
        return false;
      }
      f = up;
    }
  };

  if (last.fits && last.garbage) {
    // The operator's floors fit but generate garbage: spend the rest of the
    // budget on quality. Strict first (it was relaxed last on the way down),
    // then lazy up to strict.
    if (climb(false, 1.0) && has_lazy) climb(true, s);
  } else {
    if (has_lazy) {
      double prev = l;
      while (!stop_here(last) && l > opt_.lazy_min) {
        prev = l;
        l = next_lower_floor(l, opt_.lazy_min);
        last = eval(s, l, "relax-lazy");
      }
      if (last.fits && prev != l) bisect(true, prev, l);
    }
    double prev = s;
    while (!stop_here(last) && s > opt_.floor_min) {
      prev = s;
      s = next_lower_floor(s, opt_.floor_min);
      l = std::min(l, s);
      last = eval(s, l, "relax-strict");
    }
    if (last.fits && prev != s && r.trajectory.back().step == std::string("relax-strict")) bisect(false, prev, s);
  }

  for (size_t i = 0; i < r.trajectory.size(); ++i) {
    const HprocessPoint& p = r.trajectory[i];
    if (!p.fits || p.garbage) continue;
    if (r.chosen < 0) {
      r.chosen = int(i);
      continue;
    }
    const HprocessPoint& c = r.trajectory[size_t(r.chosen)];
    if (std::make_tuple(p.need_bytes, p.floor_strict, p.floor_lazy) >
        std::make_tuple(c.need_bytes, c.floor_strict, c.floor_lazy))
      r.chosen = int(i);
  }
  bool any_fit = false;
  for (const auto& p : r.trajectory) any_fit |= p.fits;
  if (r.chosen >= 0) {
    const HprocessPoint& c = r.trajectory[size_t(r.chosen)];
    r.verdict = "fits and sensible";
    r.chosen_file = file_at(c.floor_strict, c.floor_lazy);
    std::map<std::string, RoleSummary> by_role;
    std::map<std::string, uint64_t> bits;
    for (const QuantizedLayer& q : r.chosen_file.layers) {
      RoleSummary& rs = by_role[role_name(q.role)];
      rs.role = role_name(q.role);
      rs.floor = role_uses_lazy_floor(q.role) ? c.floor_lazy : c.floor_strict;
      ++rs.tensors;
      rs.elements += q.elements();
      bits[rs.role] += stored_bits(q);
    }
    for (auto& [name, rs] : by_role) {
      rs.bpw = double(bits[name]) / double(rs.elements);
      r.chosen_roles.push_back(rs);
    }
  } else if (any_fit) {
    r.verdict = "only garbage fits: every candidate within the budget crosses the garbage boundary";
  } else if (last.garbage) {
    r.verdict = "the garbage boundary was crossed before the budget was met";
  } else {
    r.verdict = "the budget is not met even at the lowest floors";
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace lutc

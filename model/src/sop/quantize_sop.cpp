#include "lutc/model/quantize_sop.h"

#include <algorithm>
#include <cstdio>

#include "lutc/model/error.h"
#include "lutc/model/ordered_pool.h"

namespace lutc {
namespace {

std::unique_ptr<std::vector<double>> act_for(const SopContext& sc, const MatrixEntry& m, std::string* log) {
  if (!sc.stats) return nullptr;
  auto v = sc.stats->find(m.name, m.cols);
  if (!v && log)
    *log += "note: " + m.name + " has no activation statistics in " + sc.stats->path() +
            "; ACos falls back to plain cosine\n";
  return v;
}

}  // namespace

std::vector<SopFormat> parse_sop_formats(const std::string& spec, double budget_bpw) {
  std::vector<SopFormat> v;
  if (spec.empty()) {
    if (budget_bpw > 0) return sop_knapsack_ladder();
    throw Error(ExitCode::kUsage, "--scheme sop needs --sop-format F (e.g. e2m3.ue4m4.b16) or --budget-bpw X");
  }
  size_t at = 0;
  for (;;) {
    size_t end = at;
    int depth = 0;
    while (end < spec.size() && !(spec[end] == ',' && depth == 0)) {
      depth += spec[end] == '(' ? 1 : spec[end] == ')' ? -1 : 0;
      ++end;
    }
    v.push_back(parse_sop_format(spec.substr(at, end - at)));
    if (end >= spec.size()) break;
    at = end + 1;
  }
  if (v.size() > 1 && budget_bpw <= 0)
    throw Error(ExitCode::kUsage, "--sop-format '" + spec + "': a list of formats needs --budget-bpw");
  return v;
}

// Each candidate is scored on at most 256 evenly spaced rows (exact bits,
// ACos error scaled to the whole matrix).
std::string plan_sop_budget(double budget_bpw, const MatrixSource& src, const RoleRules& rules, unsigned threads,
                            SopContext& sc) {
  const auto& ms = src.matrices();
  std::vector<std::vector<KnapsackItem>> groups(ms.size());
  uint64_t elements = 0;
  for (const auto& m : ms) elements += uint64_t(m.rows) * m.cols;
  ordered_parallel<std::vector<KnapsackItem>>(
      ms.size(), threads, 2 * size_t(threads),
      [&](size_t i) {
        const MatrixEntry& m = ms[i];
        const std::vector<float> w = src.load(m);
        const auto act = act_for(sc, m, nullptr);
        const uint32_t n = std::min<uint32_t>(m.rows, 256);
        std::vector<float> sub(size_t(n) * m.cols);
        for (uint32_t k = 0; k < n; ++k) {
          const uint32_t r = uint32_t(uint64_t(k) * m.rows / n);
          std::copy(w.begin() + size_t(r) * m.cols, w.begin() + size_t(r + 1) * m.cols,
                    sub.begin() + size_t(k) * m.cols);
        }
        const Role role = m.routed_expert ? Role::kRoutedExpert : rules.classify(m.name);
        std::vector<KnapsackItem> items;
        for (const SopFormat& f : sc.formats) {
          SopOptions o;
          o.format = f;
          o.act = act.get();
          SopChoice ch;
          quantize_sop(m.name, role, sub.data(), n, m.cols, o, &ch);
          items.push_back({sop_stored_bits(m.name, m.rows, m.cols, f), ch.acos_error * double(m.rows) / n});
        }
        return items;
      },
      [&](size_t i, std::vector<KnapsackItem>&& items) { groups[i] = std::move(items); });
  const uint64_t budget = uint64_t(budget_bpw * double(elements));
  const KnapsackResult r = solve_mckp(groups, budget);
  if (!r.feasible) {
    uint64_t least = 0;
    for (const auto& g : groups) {
      uint64_t b = g[0].bits;
      for (const auto& it : g) b = std::min(b, it.bits);
      least += b;
    }
    throw Error(ExitCode::kUsage, "--budget-bpw " + std::to_string(budget_bpw) +
                                      " is below the cheapest candidate assignment (" +
                                      std::to_string(double(least) / double(elements)) + " bpw)");
  }
  for (size_t i = 0; i < ms.size(); ++i) sc.plan[ms[i].name] = sc.formats[r.choice[i]];
  char line[256];
  std::snprintf(line, sizeof line,
                "knapsack: budget %.4f bpw, chose %.4f bpw (layers only), estimated sum(1-ACos) %.6g, "
                "optimality gap <= %.3g\n",
                budget_bpw, double(r.bits) / double(elements), r.error, r.gap_bound);
  return line;
}

QuantizedLayer quantize_sop_matrix(const SopContext& sc, const MatrixEntry& m, Role role, const std::vector<float>& w,
                                   std::string* log) {
  const auto act = act_for(sc, m, log);
  SopOptions o;
  o.format = sc.plan.empty() ? sc.formats.front() : sc.plan.at(m.name);
  o.act = act.get();
  SopChoice ch;
  QuantizedLayer q = quantize_sop(m.name, role, w.data(), m.rows, m.cols, o, &ch);
  char line[512];
  std::snprintf(line, sizeof line, "sop: %-28s %-30s %s min %.6f mean %.6f, codebook b in %.1f%% of blocks\n",
                m.name.c_str(), ch.format.name().c_str(), ch.act_weighted ? "ACos" : "cos", ch.acos_min, ch.acos_mean,
                100 * ch.sel_b_fraction);
  *log += line;
  return q;
}

}  // namespace lutc

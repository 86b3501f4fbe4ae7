#pragma once
// The SOP half of quantize (the CLI's and the Python package's): candidate
// formats from --sop-format, ACos statistics from --act-stats, and the
// --budget-bpw knapsack plan.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lutc/model/layer.h"
#include "lutc/model/matrix_source.h"
#include "lutc/model/roles.h"
#include "lutc/model/sop.h"

namespace lutc {

struct SopContext {
  std::vector<SopFormat> formats;  // one, or the knapsack candidates
  std::unique_ptr<ActStats> stats;
  std::map<std::string, SopFormat> plan;  // --budget-bpw: format per layer
};

// Parses --sop-format (commas inside pair(...) do not separate formats).
std::vector<SopFormat> parse_sop_formats(const std::string& spec, double budget_bpw);

// --budget-bpw: scores every candidate on every matrix (on `threads` threads;
// the plan does not depend on their number), then solves the knapsack.
// Returns the one-line summary of the plan.
std::string plan_sop_budget(double budget_bpw, const MatrixSource& src, const RoleRules& rules, unsigned threads,
                            SopContext& sc);

// Quantizes one matrix with its planned format; `log` gets the one-line summary.
QuantizedLayer quantize_sop_matrix(const SopContext& sc, const MatrixEntry& m, Role role, const std::vector<float>& w,
                                   std::string* log);

}  // namespace lutc

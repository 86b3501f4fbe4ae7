#pragma once
// Sums and differences of action counts (per-layer windows, whole-model totals).
#include "lutc/compiler/engine_stats.h"

namespace lutc::sim {

ActionCounts operator-(const ActionCounts& a, const ActionCounts& b);
ActionCounts& operator+=(ActionCounts& a, const ActionCounts& b);

}  // namespace lutc::sim

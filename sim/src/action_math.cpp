#include "lutc/sim/action_math.h"

namespace lutc::sim {
namespace {

template <class F>
void each_field(ActionCounts& out, const ActionCounts& a, const ActionCounts& b, F f) {
#define LUTC_ACTION_COMBINE(name) out.name = f(a.name, b.name);
  LUTC_ACTION_COUNTS(LUTC_ACTION_COMBINE)
#undef LUTC_ACTION_COMBINE
}

}  // namespace

ActionCounts operator-(const ActionCounts& a, const ActionCounts& b) {
  ActionCounts out;
  each_field(out, a, b, [](uint64_t x, uint64_t y) { return x - y; });
  return out;
}

ActionCounts& operator+=(ActionCounts& a, const ActionCounts& b) {
  each_field(a, a, b, [](uint64_t x, uint64_t y) { return x + y; });
  return a;
}

}  // namespace lutc::sim

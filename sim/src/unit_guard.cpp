#include "lutc/sim/unit_guard.h"

#include <systemc>

namespace lutc::sim {
namespace {
std::exception_ptr g_failure;
}

void guarded(const std::function<void()>& body) {
  try {
    body();
  } catch (...) {
    if (!g_failure) g_failure = std::current_exception();
    sc_core::sc_stop();
  }
}

std::exception_ptr take_failure() {
  std::exception_ptr f = g_failure;
  g_failure = nullptr;
  return f;
}

}  // namespace lutc::sim

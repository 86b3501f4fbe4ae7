// The program's sc_main. SystemC's kernel is entered once per process through
// sc_elab_and_sim, which calls sc_main; lutc's own main() dispatches to
// subcommands, so sc_main runs whatever body run_in_systemc was given.
#include <systemc>

#include <cstdlib>
#include <exception>

#include "lutc/model/error.h"
#include "lutc/sim/simulate.h"

namespace {
const std::function<int()>* g_body = nullptr;
std::exception_ptr g_error;
}  // namespace

int sc_main(int, char*[]) {
  if (!g_body) return 1;
  try {
    return (*g_body)();
  } catch (...) {
    // Carried past sc_elab_and_sim, which would turn it into a report.
    g_error = std::current_exception();
    return 1;
  }
}

namespace lutc::sim {

int run_in_systemc(const std::function<int()>& body) {
  // SystemC elaborates once per process; a second run would fail deep in the
  // kernel (E529 "simulation running") and take every later test with it.
  static bool entered = false;
  if (entered)
    throw Error(ExitCode::kInternal,
                "SystemC runs once per process and this process has already simulated: run each simulation in "
                "its own process (ctest runs every sim test alone; by hand, one --gtest_filter test per run)");
  entered = true;
  setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 1);
  g_body = &body;
  char name[] = "lutc";
  char* argv[] = {name, nullptr};
  const int rc = sc_core::sc_elab_and_sim(1, argv);
  g_body = nullptr;
  if (g_error) {
    std::exception_ptr e = g_error;
    g_error = nullptr;
    std::rethrow_exception(e);
  }
  return rc;
}

bool inside_systemc() { return g_body != nullptr; }

}  // namespace lutc::sim

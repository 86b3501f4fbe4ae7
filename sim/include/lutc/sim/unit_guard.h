#pragma once
// SystemC turns an exception escaping a process into an sc_report, losing the
// lutc::Error and its exit code. Every thread body runs under guarded(): the
// first failure is kept, the simulation stops, and simulate() rethrows it.
#include <exception>
#include <functional>

namespace lutc::sim {

void guarded(const std::function<void()>& body);
// The first failure since the last call (nullptr when none), cleared.
std::exception_ptr take_failure();

}  // namespace lutc::sim

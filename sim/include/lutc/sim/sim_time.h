#pragma once
// Simulated time counts engine cycles: 1 ns of SystemC time is one cycle,
// whatever the configured clock (seconds come from the clock in the report).
// Fractional cycles (DRAM streaming) are kept at the kernel's ps resolution.
#include <systemc>

namespace lutc::sim {

inline sc_core::sc_time cycles(double c) { return sc_core::sc_time(c, sc_core::SC_NS); }
inline double now_cycles() { return sc_core::sc_time_stamp().to_seconds() * 1e9; }

}  // namespace lutc::sim

#pragma once
// What a simulation run is asked to do, beyond what the program and its arch
// config say. DRAM burst size and outstanding requests are properties of the
// DMA engine that the arch .ini does not describe (adding keys there would
// change every program's arch hash), so they are simulator options.
#include <cstdint>

namespace lutc::sim {

struct SimOptions {
  // Bytes per DRAM request. With `dram_outstanding` requests in flight the
  // sustained bandwidth is min(peak, outstanding * burst / (latency + burst / peak)).
  uint32_t dram_burst_bytes = 256;
  // Requests the DMA engine keeps in flight. The defaults (64 x 256 B = 16 KiB)
  // cover the default arch's latency x bandwidth product (200 x 64 B), so the
  // default engine streams at peak bandwidth.
  uint32_t dram_outstanding = 64;
  // Record one slice per unit activity for a trace (costs memory on big models).
  bool keep_trace = false;
  // Record the cycle each instruction is accepted in (IssueLog, the RTL's format).
  bool keep_issue_log = false;
};

}  // namespace lutc::sim

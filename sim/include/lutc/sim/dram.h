#pragma once
// DRAM as a TLM-2.0 target. It holds the running layer's DRAM image (the
// program's segments, its LUT image, the host's activation vectors) and one
// channel: a request issued at t returns its first byte at
// max(t + latency, channel free) and streams at the sustained bandwidth
// (cycle_model.h). The annotated delay it returns is the transfer's end.
// TLM_IGNORE_COMMAND moves no bytes but costs the same time (timing-only runs).
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>

#include "lutc/sim/run_context.h"
#include "lutc/sim/sim_options.h"

namespace lutc::sim {

// Address map: segment code in bits 48.., activation vector in 32..47, byte offset below.
constexpr uint32_t kLutImageSegment = 15;  // the program's LUT image, read by LUT_LOAD
inline uint64_t dram_address(uint32_t segment, uint32_t vector, uint32_t offset) {
  return (uint64_t(segment) << 48) | (uint64_t(vector) << 32) | offset;
}

class Dram : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Dram> socket;

  Dram(sc_core::sc_module_name name, const RunContext& ctx, const ArchConfig& arch, const SimOptions& opt);

 private:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);

  const RunContext& ctx_;
  double latency_, bytes_per_cycle_;
  sc_core::sc_time channel_free_ = sc_core::SC_ZERO_TIME;
};

}  // namespace lutc::sim

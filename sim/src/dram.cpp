#include "lutc/sim/dram.h"

#include <algorithm>
#include <cstring>

#include "lutc/model/error.h"
#include "lutc/sim/cycle_model.h"
#include "lutc/sim/sim_time.h"

namespace lutc::sim {

Dram::Dram(sc_core::sc_module_name name, const RunContext& ctx, const ArchConfig& arch, const SimOptions& opt)
    : sc_module(name),
      socket("socket"),
      ctx_(ctx),
      latency_(arch.dram_latency_cycles),
      bytes_per_cycle_(dram_sustained_bytes_per_cycle(arch, opt)) {
  socket.register_b_transport(this, &Dram::b_transport);
}

void Dram::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const uint64_t addr = gp.get_address();
  const uint32_t seg = uint32_t(addr >> 48), vec = uint32_t((addr >> 32) & 0xffff), off = uint32_t(addr);
  const uint32_t n = gp.get_data_length();
  if (gp.get_command() == tlm::TLM_READ_COMMAND) {
    const uint8_t* src = nullptr;
    size_t have = 0;
    if (seg == uint32_t(isa::Segment::ACT) && vec < ctx_.act_images.size()) {
      src = ctx_.act_images[vec].data();
      have = ctx_.act_images[vec].size();
    } else if (seg < isa::kSegmentCount && seg != uint32_t(isa::Segment::ACT)) {
      src = ctx_.program->segments[seg].data();
      have = ctx_.program->segments[seg].size();
    }
    // The .lutp reader proved every DMA inside its segment; this guards the model itself.
    if (!src || uint64_t(off) + n > have) {
      gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    std::memcpy(gp.get_data_ptr(), src + off, n);
  }
  // One channel: the first byte comes after the latency or after the
  // previous transfer, whichever is later; the rest streams.
  const sc_core::sc_time issued = sc_core::sc_time_stamp() + delay;
  const sc_core::sc_time first = std::max(issued + cycles(latency_), channel_free_);
  channel_free_ = first + cycles(dram_transfer_cycles(n, bytes_per_cycle_));
  delay = channel_free_ - sc_core::sc_time_stamp();
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace lutc::sim

#include "lutc/sim/cycle_model.h"

#include <algorithm>
#include <cmath>

namespace lutc::sim {

double dram_sustained_bytes_per_cycle(const ArchConfig& arch, const SimOptions& opt) {
  const double peak = arch.dram_stream_bytes_per_cycle();
  const double burst = opt.dram_burst_bytes;
  // Each request occupies a slot for its latency plus its own transfer time.
  const double per_slot = burst / (double(arch.dram_latency_cycles) + burst / peak);
  return std::min(peak, double(opt.dram_outstanding) * per_slot);
}

double dram_transfer_cycles(uint64_t bytes, double bytes_per_cycle) {
  return std::ceil(double(bytes) / bytes_per_cycle);
}

uint64_t lut_image_bytes(const ArchConfig& arch, uint64_t words, uint64_t records) {
  return words * ((arch.hif_word_bits() + 7) / 8) + records * 4;
}

uint32_t lut_step_cycles(const std::vector<uint32_t>& lanes_per_bank, uint32_t ports) {
  uint32_t most = 0;
  for (uint32_t n : lanes_per_bank) most = std::max(most, n);
  return std::max<uint32_t>(1, (most + ports - 1) / ports);
}

}  // namespace lutc::sim

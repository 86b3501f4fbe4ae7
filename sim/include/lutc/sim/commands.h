#pragma once
// What the controller hands to the units through sc_fifos: one command per
// instruction, carrying the layer registers it runs under and the commands it
// must wait for (sequence numbers of other units' ProgressCounters).
#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "lutc/compiler/isa.h"

namespace lutc::sim {

class ProgressCounter;

using Registers = std::array<int32_t, isa::kCfgRegCount>;

// Wait until `counter` has retired command `seq` (a write-after-read hazard on
// an SRAM range or LUT slot, or an accumulator handover).
struct Dependency {
  ProgressCounter* counter = nullptr;
  uint64_t seq = 0;
};

struct DmaCommand {
  enum class Kind : uint8_t { kSegment, kLutLoad } kind = Kind::kSegment;
  uint64_t seq = 0;  // per kind
  isa::Instruction insn;
  std::vector<Dependency> after;
};

struct ComputeCommand {
  uint64_t seq = 0;  // per receiving unit
  isa::Instruction insn;
  Registers regs{};
  std::vector<Dependency> after;
};

inline std::ostream& operator<<(std::ostream& os, const DmaCommand& c) { return os << "dma#" << c.seq; }
inline std::ostream& operator<<(std::ostream& os, const ComputeCommand& c) { return os << "compute#" << c.seq; }

}  // namespace lutc::sim

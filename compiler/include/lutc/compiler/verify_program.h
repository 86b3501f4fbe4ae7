#pragma once
// Static checks of a program against its arch: every field of every
// instruction in range, every LUT record inside a bank, every DMA inside its
// segment and SRAM, every tile's reads inside the SRAMs, END last. Throws
// Error(kBadInput) naming `origin` and the instruction index.
#include <string>

#include "lutc/compiler/memory_footprint.h"
#include "lutc/compiler/program.h"

namespace lutc {

void verify_program(const Program& p, const std::string& origin);

// verify_program, recording as it checks them the SRAM ranges, LUT words and
// lanes the program touches: the checks and the footprint read one
// per-opcode description of each instruction's accesses.
MemoryFootprint verify_and_map_program(const Program& p, const std::string& origin);

}  // namespace lutc

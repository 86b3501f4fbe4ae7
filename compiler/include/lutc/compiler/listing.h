#pragma once
// The readable listing of a program (`lutc disasm`, `lutc compile --listing`):
// a commented header, the LUT image and the instruction stream, one
// instruction per line with its named fields. Stable: tests compare it text
// for text (docs/isa.md "Listing").
#include <string>

#include "lutc/compiler/program.h"

namespace lutc {

std::string program_listing(const Program& p);
std::string instruction_text(const isa::Instruction& in);

}  // namespace lutc

// Prints lutc_isa_pkg.sv to stdout. CMake runs it once at configure time when
// the package does not exist yet: verilate() elaborates the design while
// configuring, before the build has produced lutc_isa_svgen. The text comes
// from the same isa::systemverilog_package() the build-time generator uses.
#include <cstdio>

#include "lutc/compiler/isa.h"

int main() {
  std::fputs(lutc::isa::systemverilog_package().c_str(), stdout);
  return 0;
}

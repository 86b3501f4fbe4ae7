// Writes lutc_isa_pkg.sv (the ISA as a SystemVerilog package) atomically.
#include <cstdio>
#include <exception>

#include "lutc/compiler/isa.h"
#include "lutc/model/atomic_file.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: lutc_isa_svgen OUT.sv\n");
    return 2;
  }
  try {
    const std::string sv = lutc::isa::systemverilog_package();
    lutc::AtomicFile f(argv[1]);
    f.write(sv.data(), sv.size());
    f.commit();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lutc_isa_svgen: %s\n", e.what());
    return 4;
  }
  return 0;
}

#pragma once
// Which instruction set the kernels run with. Detected once at run time, so
// one binary serves every x86-64 machine; tests and benchmarks can force a
// lower level to check that every path agrees.
#include <string>

namespace lutc::kernels {

enum class Isa { kPortable = 0, kAvx2 = 1, kAvx512 = 2 };

const char* isa_name(Isa isa);
bool parse_isa(const std::string& name, Isa* out);  // "portable" | "avx2" | "avx512"
// AVX2 needs AVX2+FMA+F16C; AVX-512 needs F, BW, VL, DQ and VNNI.
bool isa_available(Isa isa);
Isa best_isa();

}  // namespace lutc::kernels

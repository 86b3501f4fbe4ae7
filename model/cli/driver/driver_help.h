#pragma once
// The driver's own words: what `lutc --help` prints around the command list,
// shared with the man page so neither retypes the other.
#include <string>
#include <vector>

namespace lutc::cli {

// Set from the project version in CMakeLists.txt.
#ifndef LUTC_VERSION
#error "LUTC_VERSION must be defined by the build"
#endif
inline constexpr const char* kVersion = LUTC_VERSION;

inline constexpr const char* kTagline =
    "LUT-decode quantization of LLM weights: quantize, compile to LUT-SRAM programs, simulate (SystemC, RTL), run on "
    "CPU and GPU kernels, explore designs.";

struct ExitCodeDoc {
  int code;
  const char* meaning;
};
const std::vector<ExitCodeDoc>& exit_code_docs();

// The whole `lutc --help` text.
std::string driver_help();

}  // namespace lutc::cli

#pragma once
// A whole small text input (an arch .ini, a sweep, an issue log) as a string.
#include <string>

namespace lutc {

// Throws Error(kIo) "cannot open <what> '<path>'" when the file cannot be read.
std::string read_text_file(const std::string& path, const std::string& what);

}  // namespace lutc

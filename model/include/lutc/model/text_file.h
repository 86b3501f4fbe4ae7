#pragma once
// A whole small text input (an arch .ini, a sweep, an issue log) as a string.
#include <string>

namespace lutc {

// Throws Error(kIo) "cannot open <what> '<path>'" when the file cannot be read,
// and Error(kBadInput) naming the file, line and column when it is not UTF-8
// (check_utf8): its values end up in JSON reports, which must be UTF-8.
std::string read_text_file(const std::string& path, const std::string& what);

// Error(kBadInput) "<what> '<path>', line L, column C: byte 0x.. is not valid UTF-8".
void check_utf8(const std::string& text, const std::string& path, const std::string& what);

}  // namespace lutc

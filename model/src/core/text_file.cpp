#include "lutc/model/text_file.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lutc/model/error.h"
#include "lutc/model/suggest.h"

namespace lutc {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence(const std::string& s, size_t i) {
  const auto b = [&](size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
  const unsigned c = b(i);
  if (c < 0x80) return 1;
  const auto cont = [&](size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return b(i + 1) >= lo && b(i + 1) <= hi && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return b(i + 1) >= lo && b(i + 1) <= hi && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

}  // namespace

void check_utf8(const std::string& text, const std::string& path, const std::string& what) {
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_sequence(text, i);
    if (n == 0) {
      char byte[8];
      std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(text[i]));
      throw Error(ExitCode::kBadInput, what + " '" + path + "', line " + std::to_string(line) + ", column " +
                                           std::to_string(i - line_start + 1) + ": byte " + byte +
                                           " is not valid UTF-8 (text inputs must be UTF-8)");
    }
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
    i += n;
  }
}

std::string read_text_file(const std::string& path, const std::string& what) {
  // A folder opens as a stream on Linux and then reads as nothing; it would
  // parse as an empty config, so it is refused by name.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw Error(ExitCode::kIo, "cannot read " + what + " '" + path + "': it is a folder, not a file");
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  if (f) s << f.rdbuf();
  if (!f || f.bad()) throw Error(ExitCode::kIo, "cannot open " + what + " '" + path + "'" + did_you_mean_file(path));
  std::string text = s.str();
  check_utf8(text, path, what);
  return text;
}

}  // namespace lutc

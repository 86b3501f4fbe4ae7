#include "lutc/model/error.h"

#include <cmath>
#include <cstdio>

namespace lutc {

namespace {

// Names come from the files being refused, so they may hold any byte; a NUL
// or control byte would cut or garble the message, so those are escaped.
std::string printable(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (c >= 0x20 && c != 0x7f) {
      out += char(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

// 16, 0.98, 1e-07: what the user typed, not std::to_string's 16.000000
// (%.15g: 1e12 prints as 1000000000000).
std::string shortest(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

}  // namespace

void check_range(const std::string& flag, double v, double lo, double hi) {
  if (!(v >= lo && v <= hi) || !std::isfinite(v))
    throw Error(ExitCode::kUsage,
                "--" + flag + " " + shortest(v) + " is out of range [" + shortest(lo) + ", " + shortest(hi) + "]");
}

std::string located(const std::string& file, const std::string& layer, long long offset, const std::string& what) {
  std::string s;
  if (!file.empty()) s += "file '" + printable(file) + "'";
  if (!layer.empty()) s += (s.empty() ? "" : ", ") + std::string("layer '") + printable(layer) + "'";
  if (offset >= 0) s += (s.empty() ? "" : ", ") + std::string("offset ") + std::to_string(offset);
  return s.empty() ? what : s + ": " + what;
}

void fail_input(const std::string& file, const std::string& layer, long long offset, const std::string& what) {
  throw Error(ExitCode::kBadInput, located(file, layer, offset, what));
}

}  // namespace lutc

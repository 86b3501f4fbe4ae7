#include "lutc/model/error.h"

namespace lutc {

std::string located(const std::string& file, const std::string& layer, long long offset,
                    const std::string& what) {
  std::string s;
  if (!file.empty()) s += "file '" + file + "'";
  if (!layer.empty()) s += (s.empty() ? "" : ", ") + std::string("layer '") + layer + "'";
  if (offset >= 0) s += (s.empty() ? "" : ", ") + std::string("offset ") + std::to_string(offset);
  return s.empty() ? what : s + ": " + what;
}

void fail_input(const std::string& file, const std::string& layer, long long offset,
                const std::string& what) {
  throw Error(ExitCode::kBadInput, located(file, layer, offset, what));
}

}  // namespace lutc

#include "lutc/model/exit_class.h"

#include <filesystem>
#include <new>

namespace lutc {

ExitCode exit_code_of(const std::exception& e) {
  if (const auto* le = dynamic_cast<const Error*>(&e)) return le->code();
  if (dynamic_cast<const std::filesystem::filesystem_error*>(&e)) return ExitCode::kIo;
  if (dynamic_cast<const std::bad_alloc*>(&e)) return ExitCode::kIo;
  return ExitCode::kInternal;
}

ExitCode exit_code_of_child(int status) {
  switch (status) {
    case int(ExitCode::kBadInput): return ExitCode::kBadInput;
    case int(ExitCode::kIo): return ExitCode::kIo;
    case int(ExitCode::kQuality): return ExitCode::kQuality;
    default: return ExitCode::kInternal;
  }
}

}  // namespace lutc

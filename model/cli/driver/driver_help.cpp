#include "driver_help.h"

#include <cstdio>

#include "lutc/cli/command.h"
#include "lutc/model/error.h"

namespace lutc::cli {

const std::vector<ExitCodeDoc>& exit_code_docs() {
  static const std::vector<ExitCodeDoc> docs{
      {0, "ok"},
      {int(ExitCode::kUsage), "usage"},
      {int(ExitCode::kBadInput), "bad input file"},
      {int(ExitCode::kIo), "I/O error"},
      {int(ExitCode::kQuality), "quality floor missed (with --fail-on-floor)"},
      {int(ExitCode::kInternal), "internal error"},
  };
  return docs;
}

std::string driver_help() {
  std::string s = std::string("lutc — ") + kTagline +
                  "\n\nusage: lutc <command> [options]    (lutc <command> --help for its options)\n\ncommands:\n";
  char line[256];
  for (const auto& c : commands()) {
    std::snprintf(line, sizeof line, "  %-10s ", c.name.c_str());
    s += line + c.summary + "\n";
  }
  s += "\nexit codes:";
  const auto& docs = exit_code_docs();
  for (size_t i = 0; i < docs.size(); ++i) s += (i ? ", " : " ") + std::to_string(docs[i].code) + " " + docs[i].meaning;
  return s + "\n";
}

}  // namespace lutc::cli

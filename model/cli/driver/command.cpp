#include "lutc/cli/command.h"

#include <algorithm>

namespace lutc::cli {
namespace {
std::vector<Command>& registry() {
  static std::vector<Command> r;  // function-local: safe from static init order
  return r;
}
}  // namespace

const std::vector<Command>& commands() {
  auto& r = registry();
  std::sort(r.begin(), r.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
  return r;
}

const Command* find_command(const std::string& name) {
  for (const auto& c : commands())
    if (c.name == name) return &c;
  return nullptr;
}

RegisterCommand::RegisterCommand(Command c) { registry().push_back(std::move(c)); }

}  // namespace lutc::cli

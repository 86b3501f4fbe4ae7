#pragma once
// Subcommand registry for the single `lutc` executable. Each component
// registers its commands from its own cli/ folder with a static
// RegisterCommand, so main() knows none of them by name.
#include <string>
#include <vector>

namespace lutc::cli {

struct Command {
  std::string name;
  std::string summary;  // one line for `lutc --help`
  // argv[0] is the subcommand name; returns the process exit code.
  int (*run)(int argc, char** argv);
};

const std::vector<Command>& commands();
// The registered command of that name, or nullptr when this build has none
// (e.g. gpu-bench without CUDA). Lets one command hand over to another
// without linking against it.
const Command* find_command(const std::string& name);

struct RegisterCommand {
  explicit RegisterCommand(Command c);
};

}  // namespace lutc::cli

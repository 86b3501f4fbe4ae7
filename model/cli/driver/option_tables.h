#pragma once
// Every command's option table, taken from the very table its --help prints
// (parse_command_line hands it over while a sink is set), so the shell
// completion and the man page never retype a command, a flag or a choice.
#include <string>
#include <vector>

namespace lutc::cli {

enum class ValueKind {
  kNone,    // a switch
  kNumber,  // an integer or floating-point value: nothing to complete
  kText,    // a string: a path, a spec, a pattern (completed as a file name)
};

struct OptionInfo {
  std::string long_name;   // "output"
  std::string short_name;  // "o", or empty
  ValueKind value = ValueKind::kNone;
  bool value_optional = false;       // implicit_value: the flag alone is valid
  bool repeatable = false;           // composing or multitoken
  std::vector<std::string> choices;  // from a description starting "a|b|c: "
  std::string parameter;             // "arg (=auto)", as --help prints it
  std::string description;
};

struct CommandTable {
  std::string name;
  std::string summary;  // the line `lutc --help` shows
  std::string usage;    // the text above the options in `lutc NAME --help`
  std::vector<OptionInfo> options;
  bool takes_operands = false;               // positional arguments
  std::vector<std::string> operand_choices;  // the positional option's choices; else operands are files
};

// Runs every registered command in table-capture mode, sorted by name.
// Throws Error(kInternal) for a command that never reaches parse_command_line.
std::vector<CommandTable> option_tables();

}  // namespace lutc::cli

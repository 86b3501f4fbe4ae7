#pragma once
// Shell completion scripts for lutc, written from the option tables
// (option_tables.h): commands, each command's flags, choice values, file
// names for text values and operands, nothing for numbers.
#include <string>
#include <vector>

#include "option_tables.h"

namespace lutc::cli {

std::string bash_completion(const std::vector<CommandTable>& tables);
std::string zsh_completion(const std::vector<CommandTable>& tables);

}  // namespace lutc::cli

#pragma once
// lutc(1) in roff (man macros), written from the driver's help text and every
// command's option table (option_tables.h), so it says what --help says.
#include <string>
#include <vector>

#include "option_tables.h"

namespace lutc::cli {

std::string man_page(const std::vector<CommandTable>& tables);

}  // namespace lutc::cli

#pragma once
// The Python-side program type, shared with sim/python (which runs it).
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "lutc/compiler/program.h"

namespace lutc::python {

// lutc.Program: one layer's .lutp program; `report` is what compile printed
// (empty for a program read from a file).
struct PyProgram {
  std::shared_ptr<const Program> program;
  nlohmann::json report;
};

}  // namespace lutc::python

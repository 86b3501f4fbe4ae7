#pragma once
// Each component's binding file registers a function that adds its classes and
// functions to the one extension module, the way CLI commands register
// themselves (lutc/cli/command.h): module.cpp knows none of them by name.
#include <nanobind/nanobind.h>

namespace lutc::python {

struct Binding {
  int order;  // components below others bind first, so their types exist: model 0, compiler 1, kernels/sim 2
  const char* component;
  void (*bind)(nanobind::module_& m);
};

struct RegisterBinding {
  explicit RegisterBinding(Binding b);
};

}  // namespace lutc::python

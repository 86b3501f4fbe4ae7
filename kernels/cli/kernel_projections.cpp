// Registers the CPU kernels as the "kernels" projection backend of
// `lutc lm-eval --projections` and `lutc hprocess --projections`
// (lutc/cli/projections.h). It lives with the kernels' commands because this
// OBJECT library is what reaches the lutc executable; model/'s commands find
// the backend by name and never link the kernels themselves.
#include "lutc/cli/projections.h"
#include "lutc/kernels/cpu/projections.h"

namespace lutc::cli {
namespace {

std::shared_ptr<const ProjectionBackend> make_kernels(unsigned threads) {
  kernels::ProjectionOptions o;
  o.threads = threads;
  return std::make_shared<const kernels::KernelProjections>(o);
}

const RegisterProjectionBackend kRegister({"kernels", make_kernels});

}  // namespace
}  // namespace lutc::cli

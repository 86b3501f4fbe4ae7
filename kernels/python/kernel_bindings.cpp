// kernels/'s part of lutc._lutc: the CPU fused decode + GEMV paths (exact,
// f32, i8) behind lutc.gemv(path=...), as `lutc bench` / `kernel-check` run them.
#include <nanobind/stl/string.h>

#include <algorithm>
#include <memory>
#include <thread>

#include "binding_registry.h"
#include "lutc/kernels/cpu/gemv.h"
#include "lutc/model/error.h"
#include "lutc_python.h"

namespace lutc::python {
namespace {

FloatOut kernel_gemv(const PyLayer& l, const FloatIn& xin, const std::string& path_name) {
  kernels::Path path;
  if (!kernels::parse_path(path_name, &path))
    throw Error(ExitCode::kUsage, "path '" + path_name + "' is unknown; one of: golden, exact, f32, i8");
  const Activations x = activations(xin, l.layer->cols, l.layer->name);
  std::vector<float> y(size_t(x.batch) * l.layer->rows);
  {
    nb::gil_scoped_release unlocked;
    const kernels::PackedLayer packed = kernels::pack_layer(*l.layer);
    if (!kernels::path_supports(path, packed))
      throw Error(ExitCode::kUsage, "layer '" + l.layer->name + "': the " + path_name +
                                        " path needs 4-bit codes (this layer has " + std::to_string(l.layer->bits) +
                                        ")");
    kernels::ThreadPool pool(std::max(1u, std::thread::hardware_concurrency()));
    kernels::RunOptions ro;
    ro.pool = &pool;
    if (path == kernels::Path::kExact)
      kernels::gemv_exact(packed, x.data, x.batch, GemvConfig{}, y.data(), ro);
    else
      kernels::gemv_fast(path, packed, x.data, x.batch, y.data(), ro);
  }
  return outputs(std::move(y), x, l.layer->rows);
}

void bind_kernels(nb::module_& m) {
  m.def("_kernel_gemv", &kernel_gemv, nb::arg("layer"), nb::arg("x"), nb::arg("path"));
}

const RegisterBinding kRegister({2, "kernels", bind_kernels});

}  // namespace
}  // namespace lutc::python

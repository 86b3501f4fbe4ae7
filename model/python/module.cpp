// The extension module lutc._lutc: the error translation and every registered
// component's bindings. The public API is the pure-Python package lutc/
// (lutc/__init__.py), which wraps these.
#include <algorithm>
#include <vector>

#include "binding_registry.h"
#include "lutc/model/error.h"

namespace nb = nanobind;

namespace lutc::python {
namespace {

std::vector<Binding>& registry() {
  static std::vector<Binding> r;
  return r;
}

}  // namespace

RegisterBinding::RegisterBinding(Binding b) { registry().push_back(b); }

}  // namespace lutc::python

NB_MODULE(_lutc, m) {
  m.doc() = "lutc's C++ core; use the lutc package, which wraps it";
  m.attr("__version__") = LUTC_VERSION;
  // lutc::Error keeps its exit-code class in Python: lutc.errors maps the code
  // to the matching subclass of lutc.Error (attribute exit_code).
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const lutc::Error& e) {
      nb::object cls = nb::module_::import_("lutc.errors").attr("error_class")(int(e.code()));
      PyErr_SetObject(cls.ptr(), nb::make_tuple(e.what(), int(e.code())).ptr());
    }
  });
  auto& r = lutc::python::registry();
  std::stable_sort(r.begin(), r.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
  for (const auto& b : r) b.bind(m);
}

// compiler/'s part of lutc._lutc: compile a layer for an arch (what
// `lutc compile` does per layer), .lutp read/write, listings, and the golden
// GEMV with an arch's HIF widths and activation bits (`lutc gemv`).
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>

#include <cmath>
#include <filesystem>
#include <optional>

#include "binding_registry.h"
#include "compiler_python.h"
#include "lutc/compiler/arch_config.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/layer_luts.h"
#include "lutc/compiler/listing.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/golden.h"
#include "lutc_python.h"

namespace lutc::python {
namespace {

ArchConfig arch_of(const std::optional<std::string>& path) { return path ? load_arch(*path) : default_arch(); }

PyProgram compile(const PyLayer& l, const std::optional<std::string>& arch_path) {
  nb::gil_scoped_release unlocked;
  const ArchConfig arch = arch_of(arch_path);
  CompileReport rep;
  PyProgram p;
  p.program = std::make_shared<const Program>(compile_layer(*l.layer, arch, &rep));
  p.report = {{"layer", l.layer->name},
              {"scheme", scheme_name(l.layer->scheme)},
              {"arch", arch.name.empty() ? std::string("default") : arch.name},
              {"tile_rows", rep.plan.tile_rows},
              {"tile_cols", rep.plan.tile_cols},
              {"row_tiles", rep.plan.row_tiles},
              {"col_tiles", rep.plan.col_tiles},
              {"program_bytes", rep.program_bytes},
              {"hif_max_abs_error", rep.hif.max_abs_error},
              {"hif_sqnr_db", std::isfinite(rep.hif.sqnr_db) ? nlohmann::json(rep.hif.sqnr_db) : nlohmann::json()},
              {"hif_lossless", rep.hif.lossless()}};
  return p;
}

PyProgram read_program(const std::string& path, const std::optional<std::string>& arch_path) {
  nb::gil_scoped_release unlocked;
  PyProgram p;
  p.program = std::make_shared<const Program>(arch_path ? read_lutp(path, load_arch(*arch_path)) : read_lutp(path));
  p.report = nlohmann::json::object();
  return p;
}

// `lutc gemv`: the golden GEMV; with an arch, of the HIF-rounded weights its LUTs hold.
FloatOut golden(const PyLayer& l, const FloatIn& xin, const std::optional<std::string>& arch_path) {
  const Activations x = activations(xin, l.layer->cols, l.layer->name);
  std::vector<float> y(size_t(x.batch) * l.layer->rows);
  {
    nb::gil_scoped_release unlocked;
    if (!arch_path)
      golden_gemv(*l.layer, x.data, x.batch, GemvConfig{}, y.data());
    else
      arch_golden_gemv(*l.layer, load_arch(*arch_path), x.data, x.batch, y.data());
  }
  return outputs(std::move(y), x, l.layer->rows);
}

void bind_compiler(nb::module_& m) {
  nb::class_<PyProgram>(m, "Program", "One layer's LUT-SRAM program (.lutp) for one arch.")
      .def_prop_ro("layer", [](const PyProgram& p) { return p.program->meta.layer; })
      .def_prop_ro("rows", [](const PyProgram& p) { return p.program->meta.rows; })
      .def_prop_ro("cols", [](const PyProgram& p) { return p.program->meta.cols; })
      .def_prop_ro("arch", [](const PyProgram& p) { return p.program->arch.name; })
      .def_prop_ro("arch_hash", [](const PyProgram& p) { return arch_hash(p.program->arch); })
      .def_prop_ro(
          "report", [](const PyProgram& p) { return to_python(p.report); },
          "what compile reported: tiling, program bytes, the error HIF adds")
      .def(
          "to_bytes",
          [](const PyProgram& p) {
            const std::vector<uint8_t> b = serialize_lutp(*p.program);
            return nb::bytes(reinterpret_cast<const char*>(b.data()), b.size());
          },
          "The .lutp bytes.")
      .def(
          "write",
          [](const PyProgram& p, const std::filesystem::path& path) {
            nb::gil_scoped_release unlocked;
            write_lutp(path.string(), *p.program);
          },
          nb::arg("path"), "Writes the .lutp (atomically).")
      .def(
          "listing", [](const PyProgram& p) { return program_listing(*p.program); },
          "The readable listing `lutc disasm` prints.")
      .def("__repr__", [](const PyProgram& p) {
        return "<lutc.Program '" + p.program->meta.layer + "' " + std::to_string(p.program->meta.rows) + "x" +
               std::to_string(p.program->meta.cols) + " for arch '" + p.program->arch.name + "'>";
      });
  m.def("_compile", &compile, nb::arg("layer"), nb::arg("arch").none());
  m.def("_read_lutp", &read_program, nb::arg("path"), nb::arg("arch").none());
  m.def("_golden_gemv", &golden, nb::arg("layer"), nb::arg("x"), nb::arg("arch").none());
}

const RegisterBinding kRegister({1, "compiler", bind_compiler});

}  // namespace
}  // namespace lutc::python

// model/'s part of lutc._lutc: quantize (the library pipeline `lutc quantize`
// runs), .xfp read/write, layers, golden decode.
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <filesystem>
#include <optional>
#include <regex>

#include "binding_registry.h"
#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "lutc/model/quantize_pipeline.h"
#include "lutc/model/xfp_file.h"
#include "lutc_python.h"

namespace lutc::python {

Activations activations(const FloatIn& x, uint32_t cols, const std::string& layer) {
  Activations a;
  if (x.ndim() != 1 && x.ndim() != 2)
    fail_input("", layer, -1,
               "activations must be 1-D (cols) or 2-D (batch x cols), got " + std::to_string(x.ndim()) + "-D");
  const size_t last = x.shape(x.ndim() - 1);
  if (last != cols)
    fail_input("", layer, -1,
               "activation vectors have " + std::to_string(last) + " elements, the layer has " + std::to_string(cols) +
                   " columns");
  const size_t batch = x.ndim() == 1 ? 1 : x.shape(0);
  if (batch == 0 || batch > (1u << 20)) fail_input("", layer, -1, "batch must be 1 .. 2^20");
  a.data = x.data();
  a.batch = uint32_t(batch);
  a.one_d = x.ndim() == 1;
  return a;
}

FloatOut outputs(std::vector<float>&& y, const Activations& x, uint32_t rows) {
  if (x.one_d) return to_numpy(std::move(y), {rows});
  return to_numpy(std::move(y), {x.batch, rows});
}

nb::object to_python(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return nb::none();
    case nlohmann::json::value_t::boolean: return nb::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return nb::int_(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: return nb::int_(j.get<uint64_t>());
    case nlohmann::json::value_t::number_float: return nb::float_(j.get<double>());
    case nlohmann::json::value_t::string: return nb::str(j.get_ref<const std::string&>().c_str());
    case nlohmann::json::value_t::array: {
      nb::list l;
      for (const auto& e : j) l.append(to_python(e));
      return l;
    }
    case nlohmann::json::value_t::object: {
      nb::dict d;
      for (const auto& [k, v] : j.items()) d[nb::str(k.c_str())] = to_python(v);
      return d;
    }
    default: return nb::none();
  }
}

namespace {

// lutc.QuantizedModel: every record of an .xfp in order, in memory.
struct PyRecord {
  XfpRecordKind kind = XfpRecordKind::kLayer;
  std::shared_ptr<PyLayer> layer;
  KeptTensor kept;
  XfpAlias alias;
};

struct PyModel {
  std::map<std::string, std::string> metadata;
  std::vector<PyRecord> records;
  ReportTotals totals;
  std::vector<LayerReport> rows() const {
    std::vector<LayerReport> r;
    for (const auto& rec : records)
      if (rec.layer) r.push_back(rec.layer->report);
    return r;
  }
  // Header, aliases, index and trailer amortized over the layers, as
  // `lutc quantize` and `lutc info` report the file bpw.
  void finish() {
    XfpFile skeleton;  // file_header_bytes reads names and shapes only
    skeleton.metadata = metadata;
    for (const auto& r : records) {
      if (r.kind == XfpRecordKind::kLayer) skeleton.layers.emplace_back().name = r.layer->layer->name;
      if (r.kind == XfpRecordKind::kKept) {
        KeptTensor& k = skeleton.kept.emplace_back();
        k.name = r.kept.name;
        k.shape = r.kept.shape;
      }
      if (r.kind == XfpRecordKind::kAlias) skeleton.aliases.push_back(r.alias);
    }
    totals = total_of(rows(), 8 * file_header_bytes(skeleton));
  }
  const PyRecord& layer_record(const std::string& name) const {
    for (const auto& r : records)
      if (r.layer && r.layer->layer->name == name) return r;
    throw Error(ExitCode::kUsage, "no layer named '" + name + "' (layers: " + names_text() + ")");
  }
  std::string names_text() const {
    std::string s;
    for (const auto& r : records)
      if (r.layer) s += (s.empty() ? "" : ", ") + r.layer->layer->name;
    return s.size() > 300 ? s.substr(0, 300) + "..." : s;
  }
  void write(const std::string& path) const {
    XfpWriter w(path, metadata);
    for (const auto& r : records) {
      if (r.kind == XfpRecordKind::kLayer)
        w.append(*r.layer->layer);
      else if (r.kind == XfpRecordKind::kKept)
        w.append_kept(r.kept);
      else
        w.append_alias(r.alias);
    }
    w.commit();
  }
};

std::shared_ptr<PyModel> run_pipeline(const MatrixSource& src, const QuantizeSettings& s) {
  auto m = std::make_shared<PyModel>();
  m->metadata = quantize_metadata(src, s.scheme);
  std::string log;
  const QuantizePipeline pipeline(s, src, &log);
  pipeline.run([&](QuantizedRecord&& r) {
    PyRecord rec;
    rec.kind = r.kind;
    if (r.kind == XfpRecordKind::kLayer)
      rec.layer = std::make_shared<PyLayer>(
          PyLayer{std::make_shared<const QuantizedLayer>(std::move(r.layer)), std::move(r.report)});
    rec.kept = std::move(r.kept);
    rec.alias = std::move(r.alias);
    m->records.push_back(std::move(rec));
  });
  m->finish();
  return m;
}

std::shared_ptr<PyModel> quantize_file(const std::string& path, const QuantizeSettings& s,
                                       const std::optional<std::string>& tensors,
                                       const std::optional<std::string>& keep, bool quantize_embeddings) {
  nb::gil_scoped_release unlocked;
  check_quantize_settings(s);
  auto regex = [](const std::string& flag, const std::string& re) {
    try {
      return std::regex(re);
    } catch (const std::regex_error& e) {
      throw Error(ExitCode::kUsage, "--" + flag + " '" + re + "' is not a valid regex: " + e.what());
    }
  };
  std::regex only_re, keep_re;
  FateOptions fo;
  fo.keep_embeddings = !quantize_embeddings;
  if (tensors) fo.only = &(only_re = regex("tensors", *tensors));
  if (keep) fo.keep = &(keep_re = regex("keep", *keep));
  auto src = MatrixSource::open(path, fo);
  if (!src->file() && tensors) src->filter(only_re);
  return run_pipeline(*src, s);
}

std::shared_ptr<PyModel> quantize_arrays(const std::string& spec,
                                         const std::vector<std::pair<std::string, FloatIn>>& in,
                                         const QuantizeSettings& s) {
  std::vector<ArrayMatrix> arrays;
  for (const auto& [name, a] : in) {
    if (a.ndim() != 2)
      throw Error(ExitCode::kUsage, "matrix '" + name + "' has " + std::to_string(a.ndim()) +
                                        " dimensions; quantize takes 2-D (rows x cols) matrices");
    if (a.shape(0) > UINT32_MAX || a.shape(1) > UINT32_MAX)
      throw Error(ExitCode::kUsage, "matrix '" + name + "' is too large");
    arrays.push_back({name, uint32_t(a.shape(0)), uint32_t(a.shape(1)), a.data()});
  }
  nb::gil_scoped_release unlocked;
  auto src = MatrixSource::from_arrays(spec, std::move(arrays));
  return run_pipeline(*src, s);
}

std::shared_ptr<PyModel> read_model(const std::string& path) {
  nb::gil_scoped_release unlocked;
  const XfpReader r(path);
  auto m = std::make_shared<PyModel>();
  m->metadata = r.metadata();
  for (size_t i = 0; i < r.records().size(); ++i) {
    PyRecord rec;
    rec.kind = r.records()[i].kind;
    if (rec.kind == XfpRecordKind::kLayer) {
      auto l = std::make_shared<const QuantizedLayer>(r.read_layer(i));
      rec.layer = std::make_shared<PyLayer>(PyLayer{l, describe_layer(*l)});
    } else if (rec.kind == XfpRecordKind::kKept) {
      rec.kept = r.read_kept(i);
    } else {
      rec.alias = r.read_alias(i);
    }
    m->records.push_back(std::move(rec));
  }
  m->totals = total_of(m->rows(), 8 * r.overhead_bytes());
  return m;
}

FloatOut decode(const PyLayer& l) {
  std::vector<float> w;
  {
    nb::gil_scoped_release unlocked;
    w.resize(size_t(l.layer->rows) * l.layer->cols);
    golden_decode(*l.layer, w.data());
  }
  return to_numpy(std::move(w), {l.layer->rows, l.layer->cols});
}

nlohmann::json layer_report(const PyLayer& l) {
  return report_json({l.report}, total_of({l.report})).at("layers").at(0);
}

// QuantizeSettings: the options of `lutc quantize`, field by field.
void bind_quantize_settings(nb::module_& m) {
  nb::class_<QuantizeSettings>(m, "QuantizeSettings", "The options of `lutc quantize` (see lutc.quantize).")
      .def(nb::init<>())
      .def_rw("scheme", &QuantizeSettings::scheme)
      .def_rw("floor_strict", &QuantizeSettings::floor_strict)
      .def_rw("floor_lazy", &QuantizeSettings::floor_lazy)
      .def_rw("bits", &QuantizeSettings::bits)
      .def_rw("group", &QuantizeSettings::group)
      .def_rw("outliers", &QuantizeSettings::outliers)
      .def_rw("sop_format", &QuantizeSettings::sop_format)
      .def_rw("budget_bpw", &QuantizeSettings::budget_bpw)
      .def_rw("act_stats", &QuantizeSettings::act_stats)
      .def_rw("role_overrides", &QuantizeSettings::role_overrides)
      .def_rw("threads", &QuantizeSettings::threads)
      .def_rw("max_memory_gb", &QuantizeSettings::max_memory_gb);
}

void bind_layer(nb::module_& m) {
  nb::class_<PyLayer>(m, "Layer", "One quantized layer: packed codes, codebooks, metadata and outliers.")
      .def_prop_ro("name", [](const PyLayer& l) { return l.layer->name; })
      .def_prop_ro("role", [](const PyLayer& l) { return std::string(role_name(l.layer->role)); })
      .def_prop_ro("rows", [](const PyLayer& l) { return l.layer->rows; })
      .def_prop_ro("cols", [](const PyLayer& l) { return l.layer->cols; })
      .def_prop_ro("shape", [](const PyLayer& l) { return std::make_tuple(l.layer->rows, l.layer->cols); })
      .def_prop_ro("scheme", [](const PyLayer& l) { return std::string(scheme_name(l.layer->scheme)); })
      .def_prop_ro("bits", [](const PyLayer& l) { return unsigned(l.layer->bits); })
      .def_prop_ro("group", [](const PyLayer& l) { return l.layer->group; })
      .def_prop_ro("outliers", [](const PyLayer& l) { return l.layer->outliers.count(); })
      .def_prop_ro("stored_bits", [](const PyLayer& l) { return l.report.stored_bits; })
      .def_prop_ro(
          "bpw", [](const PyLayer& l) { return l.report.bpw; },
          "effective bits per weight: every stored bit of the layer's record / (rows * cols)")
      .def_prop_ro("params", [](const PyLayer& l) { return l.layer->params; })
      .def_prop_ro(
          "report", [](const PyLayer& l) { return to_python(layer_report(l)); },
          "the layer's row of the quantize report (docs/reports.md keys)")
      .def("decode", &decode, "The golden decode W_hat (rows x cols float32).")
      .def("__repr__", [](const PyLayer& l) {
        char b[64];
        std::snprintf(b, sizeof b, "%.4g", l.report.bpw);
        return "<lutc.Layer '" + l.layer->name + "' " + std::to_string(l.layer->rows) + "x" +
               std::to_string(l.layer->cols) + " " + scheme_name(l.layer->scheme) + " " + b + " bpw>";
      });
}

// QuantizedModel's views of its records: names, layers, kept tensors,
// aliases, metadata and the report.
void bind_model_records(nb::class_<PyModel>& c) {
  c.def_prop_ro(
       "names",
       [](const PyModel& p) {
         std::vector<std::string> v;
         for (const auto& r : p.records)
           if (r.layer) v.push_back(r.layer->layer->name);
         return v;
       },
       "the quantized layers' names, in file order")
      .def_prop_ro("layers",
                   [](const PyModel& p) {
                     std::vector<std::shared_ptr<PyLayer>> v;
                     for (const auto& r : p.records)
                       if (r.layer) v.push_back(r.layer);
                     return v;
                   })
      .def_prop_ro(
          "kept",
          [](const PyModel& p) {
            std::vector<std::string> v;
            for (const auto& r : p.records)
              if (r.kind == XfpRecordKind::kKept) v.push_back(r.kept.name);
            return v;
          },
          "names of the tensors stored in source precision")
      .def_prop_ro("aliases",
                   [](const PyModel& p) {
                     std::map<std::string, std::string> v;
                     for (const auto& r : p.records)
                       if (r.kind == XfpRecordKind::kAlias) v[r.alias.name] = r.alias.target;
                     return v;
                   })
      .def_prop_ro("metadata", [](const PyModel& p) { return p.metadata; })
      .def_prop_ro(
          "bpw", [](const PyModel& p) { return p.totals.bpw; },
          "effective bpw over all layers, file header, index and aliases amortized")
      .def_prop_ro(
          "report", [](const PyModel& p) { return to_python(report_json(p.rows(), p.totals)); },
          "the quality report `lutc quantize --report` writes: per-layer rows and totals");
}

// QuantizedModel's container protocol, decode and write.
void bind_model_access(nb::class_<PyModel>& c) {
  c.def("__len__", [](const PyModel& p) { return p.rows().size(); })
      .def("__repr__",
           [](const PyModel& p) {
             char b[64];
             std::snprintf(b, sizeof b, "%.4g", p.totals.bpw);
             return "<lutc.QuantizedModel " + std::to_string(p.rows().size()) + " layers, " +
                    std::to_string(p.records.size() - p.rows().size()) + " other records, " + b + " bpw>";
           })
      .def(
          "decode",
          [](const PyModel& p, const std::optional<std::string>& name) -> nb::object {
            if (name) return nb::cast(decode(*p.layer_record(*name).layer));
            std::vector<const PyLayer*> layers;
            for (const auto& r : p.records)
              if (r.layer) layers.push_back(r.layer.get());
            if (layers.size() == 1) return nb::cast(decode(*layers[0]));
            nb::dict d;
            for (const PyLayer* l : layers) d[nb::str(l->layer->name.c_str())] = decode(*l);
            return d;
          },
          nb::arg("name") = nb::none(),
          "The golden decode: of layer `name`, of the only layer, or a dict name -> array of every layer.")
      .def("__getitem__", [](const PyModel& p, const std::string& name) { return p.layer_record(name).layer; })
      .def("__contains__",
           [](const PyModel& p, const std::string& name) {
             for (const auto& r : p.records)
               if (r.layer && r.layer->layer->name == name) return true;
             return false;
           })
      .def(
          "write",
          [](const PyModel& p, const std::filesystem::path& path) {
            nb::gil_scoped_release unlocked;
            p.write(path.string());
          },
          nb::arg("path"), "Writes the .xfp (atomically: a temp file renamed into place).");
}

void bind_model(nb::module_& m) {
  bind_quantize_settings(m);
  bind_layer(m);
  nb::class_<PyModel> c(m, "QuantizedModel", "Every record of an .xfp, in file order, held in memory.");
  bind_model_records(c);
  bind_model_access(c);

  m.def("_quantize_file", &quantize_file, nb::arg("path"), nb::arg("settings"), nb::arg("tensors").none(),
        nb::arg("keep").none(), nb::arg("quantize_embeddings"));
  m.def("_quantize_arrays", &quantize_arrays, nb::arg("spec"), nb::arg("arrays"), nb::arg("settings"));
  m.def("_read_xfp", &read_model, nb::arg("path"));
}

const RegisterBinding kRegister({0, "model", bind_model});

}  // namespace
}  // namespace lutc::python

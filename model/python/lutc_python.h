#pragma once
// What the binding files of every component share: the Python-side layer
// type, owned numpy results, the float32 array argument type and JSON to
// Python objects.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lutc/model/layer.h"
#include "lutc/model/layer_report.h"

namespace lutc::python {

namespace nb = nanobind;

// lutc.Layer: one quantized layer (immutable once made) and its report row.
struct PyLayer {
  std::shared_ptr<const QuantizedLayer> layer;
  LayerReport report;
};

// float32 input, C-contiguous, on the CPU: numpy arrays and DLPack tensors of
// that layout pass without a copy (lutc/__init__.py converts other dtypes).
using FloatIn = nb::ndarray<const float, nb::c_contig, nb::device::cpu>;
using FloatOut = nb::ndarray<nb::numpy, float>;

// A numpy array that owns `v` (moved, not copied).
inline FloatOut to_numpy(std::vector<float>&& v, std::vector<size_t> shape) {
  auto* owned = new std::vector<float>(std::move(v));
  nb::capsule free(owned, [](void* p) noexcept { delete static_cast<std::vector<float>*>(p); });
  return FloatOut(owned->data(), shape.size(), shape.data(), free);
}

// x as batch x cols: 1-D is one vector. Throws Error(kBadInput) naming the layer otherwise.
struct Activations {
  const float* data = nullptr;
  uint32_t batch = 0;
  bool one_d = false;
};
Activations activations(const FloatIn& x, uint32_t cols, const std::string& layer);
// y (batch x rows) shaped like x: 1-D for one 1-D vector.
FloatOut outputs(std::vector<float>&& y, const Activations& x, uint32_t rows);

nb::object to_python(const nlohmann::json& j);

}  // namespace lutc::python

#include "vectors_io.h"

#include <cmath>

#include "lutc/model/error.h"
#include "lutc/model/fp16.h"

namespace lutc::cli {

NpyArray read_activations(const std::string& path, uint32_t cols, const std::string& layer) {
  NpyArray x = read_npy(path);
  if (x.cols() != cols)
    fail_input(path, layer, -1,
               "activations of shape " + x.shape_text() + " have " + std::to_string(x.cols()) +
                   " elements per vector, the layer has " + std::to_string(cols) + " columns (expected shape (" +
                   std::to_string(cols) + ",) or (batch, " + std::to_string(cols) + "))");
  if (x.rows() > (1u << 20))
    fail_input(path, layer, -1,
               "activations of shape " + x.shape_text() + ": a batch of " + std::to_string(x.rows()) +
                   " vectors is more than 2^20");
  // The engines round activations to bf16 (docs/numerics.md): a value that
  // is not finite there is refused here, where the file and offset are known.
  for (size_t i = 0; i < x.data.size(); ++i) {
    const float v = x.data[i];
    const bool finite = std::isfinite(v);
    if (finite && std::isfinite(bf16_to_float(float_to_bf16(v)))) continue;
    const std::string what = std::isnan(v) ? "NaN" : !finite ? "infinite" : "outside the bf16 range";
    fail_input(path, layer, (long long)x.offset_of(i),
               "activation element " + std::to_string(i) + " (vector " + std::to_string(i / cols) + ", column " +
                   std::to_string(i % cols) + ") is " + what);
  }
  return x;
}

void write_outputs(const std::string& path, const NpyArray& x, uint32_t rows, const std::vector<float>& y) {
  if (x.shape.size() == 1)
    write_npy(path, {rows}, y.data());
  else
    write_npy(path, {x.rows(), rows}, y.data());
}

}  // namespace lutc::cli

#include "vectors_io.h"

#include "lutc/model/error.h"

namespace lutc::cli {

NpyArray read_activations(const std::string& path, uint32_t cols, const std::string& layer) {
  NpyArray x = read_npy(path);
  if (x.cols() != cols)
    fail_input(path, layer, -1, "activation vectors have " + std::to_string(x.cols()) +
                                    " elements, the layer has " + std::to_string(cols) + " columns");
  if (x.rows() > (1u << 20)) fail_input(path, layer, -1, "batch larger than 2^20");
  return x;
}

void write_outputs(const std::string& path, const NpyArray& x, uint32_t rows, const std::vector<float>& y) {
  if (x.shape.size() == 1) write_npy(path, {rows}, y.data());
  else write_npy(path, {x.rows(), rows}, y.data());
}

}  // namespace lutc::cli

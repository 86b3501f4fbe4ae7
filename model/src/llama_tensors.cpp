// Tensors for the reference forward pass: fp32 from a weight file, optionally
// replaced by the golden decode of an .xfp's layers.
#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "lutc/model/llama.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"

namespace lutc {

TensorMap load_tensors(const WeightFile& file) {
  TensorMap m;
  for (const TensorInfo& t : file.tensors()) {
    RowMatrix x(Eigen::Index(t.rows()), Eigen::Index(t.cols()));
    file.read_rows(t, 0, t.rows(), x.data());
    m.emplace(t.name, std::move(x));
  }
  return m;
}

size_t apply_xfp(TensorMap& tensors, const XfpFile& q, const std::string& xfp_path) {
  size_t replaced = 0;
  for (const QuantizedLayer& l : q.layers) {
    auto it = tensors.find(l.name);
    if (it == tensors.end()) fail_input(xfp_path, l.name, -1, "the model has no tensor of this name");
    if (uint64_t(it->second.rows()) != l.rows || uint64_t(it->second.cols()) != l.cols)
      fail_input(xfp_path, l.name, -1,
                 "shape " + std::to_string(l.rows) + "x" + std::to_string(l.cols) + " differs from the model's " +
                     std::to_string(it->second.rows()) + "x" + std::to_string(it->second.cols()));
    golden_decode(l, it->second.data());
    ++replaced;
  }
  return replaced;
}

}  // namespace lutc

// --act-stats: per-layer activation second moments E[x_k^2] for ACos.
#include <cmath>

#include "lutc/model/error.h"
#include "lutc/model/sop.h"
#include "lutc/model/weights.h"

namespace lutc {

struct ActStats::Impl {
  std::unique_ptr<WeightFile> file;
};

ActStats::~ActStats() = default;

std::unique_ptr<ActStats> ActStats::open(const std::string& path) {
  std::unique_ptr<ActStats> s(new ActStats);
  s->path_ = path;
  s->impl_ = std::make_unique<Impl>();
  s->impl_->file = WeightFile::open(path);
  return s;
}

std::unique_ptr<std::vector<double>> ActStats::find(const std::string& layer, uint32_t cols) const {
  const TensorInfo* t = impl_->file->find(layer);
  if (!t) return nullptr;
  const bool vector_shape = t->shape.size() == 1 || (t->shape.size() == 2 && t->shape[0] == 1);
  if (!vector_shape || t->elements() != cols) {
    std::string shape;
    for (uint64_t d : t->shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
    fail_input(path_, layer, -1,
               "activation statistics have shape [" + shape + "], expected a vector of " + std::to_string(cols) +
                   " values (the layer's input width K)");
  }
  const std::vector<float> v = impl_->file->read_all(*t);  // rejects NaN/Inf, naming the tensor
  auto out = std::make_unique<std::vector<double>>(v.begin(), v.end());
  double sum = 0;
  for (size_t k = 0; k < out->size(); ++k) {
    const double x = (*out)[k];
    if (!std::isfinite(x) || x < 0) {
      // The element's own bytes when the tensor is stored plainly in one file.
      const size_t es = dtype_size(t->dtype);
      const long long at = es && impl_->file->files().size() == 1 ? (long long)(t->offset + k * es) : -1;
      fail_input(path_, layer, at,
                 "activation statistic E[x^2] at column " + std::to_string(k) + " is " + std::to_string(x) +
                     " (must be finite and >= 0)");
    }
    sum += x;
  }
  if (!(sum > 0)) fail_input(path_, layer, -1, "activation statistics are all zero");
  return out;
}

}  // namespace lutc

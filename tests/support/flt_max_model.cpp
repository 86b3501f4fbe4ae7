#include "flt_max_model.h"

#include <cfloat>
#include <vector>

#include "lutc/model/weights.h"

namespace lutc::testing {

std::string write_with_flt_max(const std::string& src, const std::string& path, std::mt19937_64& rng) {
  auto w = WeightFile::open(src);
  std::vector<std::vector<float>> data;
  std::vector<NamedMatrix> tensors;
  std::vector<size_t> matrices;
  for (const TensorInfo& t : w->tensors()) {
    data.push_back(w->read_all(t));
    if (t.name.find(".layers.") != std::string::npos && t.shape.size() == 2) matrices.push_back(data.size() - 1);
  }
  for (size_t i = 0; i < data.size(); ++i)
    tensors.push_back({w->tensors()[i].name, w->tensors()[i].shape, data[i].data()});
  const size_t pick = matrices.at(rng() % matrices.size());
  for (float& v : data[pick]) v = FLT_MAX;
  write_safetensors(path, tensors, w->metadata());
  return w->tensors()[pick].name;
}

}  // namespace lutc::testing

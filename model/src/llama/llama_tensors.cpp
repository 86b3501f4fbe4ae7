// Tensors for the reference forward pass: fp32 from a weight file, optionally
// replaced by the golden decode of an .xfp's layers — all at once
// (load_tensors + apply_xfp) or one tensor at a time (FileWeights).
#include <unistd.h>

#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "lutc/model/llama.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"

namespace lutc {
namespace {

std::string shape_text(uint64_t rows, uint64_t cols) { return std::to_string(rows) + "x" + std::to_string(cols); }

// The checks apply_xfp and FileWeights share: the model has the layer's name
// and shape.
void check_layer(const std::string& xfp_path, const std::string& name, uint64_t rows, uint64_t cols,
                 const ShapeMap& model) {
  auto it = model.find(name);
  if (it == model.end()) fail_input(xfp_path, name, -1, "the model has no tensor of this name");
  if (it->second.first != rows || it->second.second != cols)
    fail_input(xfp_path, name, -1,
               "shape " + shape_text(rows, cols) + " differs from the model's " +
                   shape_text(it->second.first, it->second.second));
}

}  // namespace

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
  ShapeMap shapes;
  for (const auto& [name, t] : tensors) shapes[name] = {uint64_t(t.rows()), uint64_t(t.cols())};
  std::map<std::string, const QuantizedLayer*> by_name;
  size_t replaced = 0;
  for (const QuantizedLayer& l : q.layers) {
    check_layer(xfp_path, l.name, l.rows, l.cols, shapes);
    golden_decode(l, tensors.at(l.name).data());
    by_name[l.name] = &l;
    ++replaced;
  }
  for (const XfpAlias& a : q.aliases) {
    auto it = by_name.find(a.target);
    if (it == by_name.end()) continue;  // an alias of a kept tensor: the source's values
    check_layer(xfp_path, a.name, it->second->rows, it->second->cols, shapes);
    golden_decode(*it->second, tensors.at(a.name).data());
    ++replaced;
  }
  return replaced;
}

uint64_t WeightProvider::fp32_bytes() const {
  uint64_t n = 0;
  for (const auto& [name, s] : shapes()) n += s.first * s.second * 4;
  return n;
}

FileWeights::FileWeights(std::shared_ptr<const WeightFile> file, const std::string& xfp_path)
    : file_(std::move(file)), xfp_path_(xfp_path) {
  for (const TensorInfo& t : file_->tensors()) shapes_[t.name] = {t.rows(), t.cols()};
  if (xfp_path.empty()) return;
  reader_ = std::make_unique<XfpReader>(xfp_path);
  const auto& recs = reader_->records();
  for (size_t i = 0; i < recs.size(); ++i)
    if (recs[i].kind == XfpRecordKind::kLayer) overlay(recs[i].name, i, recs[i].rows, recs[i].cols);
  for (const XfpRecordInfo& r : recs) {
    if (r.kind != XfpRecordKind::kAlias) continue;
    const size_t target = reader_->find(r.target);
    if (target == recs.size() || recs[target].kind != XfpRecordKind::kLayer) continue;
    overlay(r.name, target, recs[target].rows, recs[target].cols);
  }
}

FileWeights::FileWeights(std::shared_ptr<const WeightFile> file, const XfpFile* layers, const std::string& xfp_path)
    : file_(std::move(file)), layers_(layers), xfp_path_(xfp_path) {
  for (const TensorInfo& t : file_->tensors()) shapes_[t.name] = {t.rows(), t.cols()};
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < layers->layers.size(); ++i) {
    const QuantizedLayer& l = layers->layers[i];
    overlay(l.name, i, l.rows, l.cols);
    index[l.name] = i;
  }
  for (const XfpAlias& a : layers->aliases) {
    auto it = index.find(a.target);
    if (it == index.end()) continue;
    const QuantizedLayer& l = layers->layers[it->second];
    overlay(a.name, it->second, l.rows, l.cols);
  }
}

FileWeights::~FileWeights() = default;

void FileWeights::overlay(const std::string& name, size_t source, uint64_t rows, uint64_t cols) {
  check_layer(xfp_path_, name, rows, cols, shapes_);
  decoded_[name] = source;
}

RowMatrix FileWeights::fetch(const std::string& name) const {
  auto s = shapes_.find(name);
  if (s == shapes_.end()) throw Error(ExitCode::kBadInput, "model tensor '" + name + "' is missing");
  RowMatrix x(Eigen::Index(s->second.first), Eigen::Index(s->second.second));
  auto d = decoded_.find(name);
  if (d == decoded_.end()) {
    const TensorInfo& t = *file_->find(name);
    file_->read_rows(t, 0, t.rows(), x.data());
  } else if (reader_) {
    golden_decode(reader_->read_layer(d->second), x.data());
  } else {
    golden_decode(layers_->layers[d->second], x.data());
  }
  return x;
}

const QuantizedLayer* FileWeights::quantized(const std::string& name, QuantizedLayer& storage) const {
  auto d = decoded_.find(name);
  if (d == decoded_.end()) return nullptr;
  if (!reader_) return &layers_->layers[d->second];
  storage = reader_->read_layer(d->second);
  return &storage;
}

TensorMap load_all(const WeightProvider& w) {
  TensorMap m;
  for (const auto& [name, s] : w.shapes()) m.emplace(name, w.fetch(name));
  return m;
}

uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
}

uint64_t default_memory_budget() {
  const uint64_t phys = physical_memory_bytes();
  return phys ? phys / 10 * 6 : uint64_t(8) << 30;
}

}  // namespace lutc

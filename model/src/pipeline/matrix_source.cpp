#include "lutc/model/matrix_source.h"

#include <cmath>
#include <limits>

#include "lutc/model/error.h"
#include "lutc/model/synth.h"
#include "lutc/model/weights.h"

namespace lutc {
namespace {

[[noreturn]] void bad_spec(const std::string& spec, const std::string& why) {
  throw Error(ExitCode::kUsage,
              "input '" + spec + "': " + why + " (expected a weight file, synth:default or synth:NxK[,NxK...][@SEED])");
}

uint64_t parse_uint(const std::string& spec, const std::string& s, uint64_t max) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
    bad_spec(spec, "'" + s + "' is not a number");
  if (s.size() > 19) bad_spec(spec, "'" + s + "' is too large");
  const uint64_t v = std::stoull(s);
  if (v == 0 || v > max) bad_spec(spec, "'" + s + "' is out of range 1.." + std::to_string(max));
  return v;
}

}  // namespace

MatrixSource::~MatrixSource() = default;

std::unique_ptr<MatrixSource> MatrixSource::open(const std::string& spec, const FateOptions& fates) {
  std::unique_ptr<MatrixSource> src(new MatrixSource());
  src->spec_ = spec;
  if (spec.rfind("synth:", 0) == 0) {
    std::string body = spec.substr(6);
    uint64_t seed = 1;
    if (const auto at = body.find('@'); at != std::string::npos) {
      seed = parse_uint(spec, body.substr(at + 1), std::numeric_limits<uint64_t>::max() / 2);
      body = body.substr(0, at);
    }
    if (body == "default") {
      for (const auto& t : default_synth_set(seed)) {
        src->matrices_.push_back({t.name, t.spec.rows, t.spec.cols, t.name});
        src->synth_seeds_.push_back(t.spec.seed);
      }
      return src;
    }
    size_t start = 0;
    unsigned i = 0;
    while (start <= body.size()) {
      const size_t comma = body.find(',', start);
      const std::string shape = body.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      const size_t x = shape.find('x');
      if (x == std::string::npos) bad_spec(spec, "shape '" + shape + "' is not NxK");
      // 2^28 elements per matrix keeps a synthetic input well inside RAM.
      const uint64_t n = parse_uint(spec, shape.substr(0, x), 1u << 20);
      const uint64_t k = parse_uint(spec, shape.substr(x + 1), 1u << 20);
      if (n * k > (uint64_t(1) << 28)) bad_spec(spec, "shape '" + shape + "' has more than 2^28 elements");
      const std::string name = "synth." + std::to_string(i) + ".weight";
      src->matrices_.push_back({name, uint32_t(n), uint32_t(k), name});
      src->synth_seeds_.push_back(seed + i);
      ++i;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return src;
  }
  src->file_ = WeightFile::open(spec);
  src->plan_ = plan_tensors(*src->file_, fates);
  for (const TensorPlan& p : src->plan_) {
    if (p.fate != TensorFate::kQuantize) {
      if (p.expert <= 0) src->skipped_.push_back(p.source);
      continue;
    }
    src->matrices_.push_back({p.name, p.rows(), p.cols(), p.source, p.expert, p.routed_expert});
  }
  return src;
}

std::unique_ptr<MatrixSource> MatrixSource::from_arrays(const std::string& spec, std::vector<ArrayMatrix> arrays) {
  if (arrays.empty()) throw Error(ExitCode::kUsage, "input '" + spec + "': no matrix to quantize");
  std::unique_ptr<MatrixSource> src(new MatrixSource());
  src->spec_ = spec;
  for (const ArrayMatrix& a : arrays) {
    if (a.rows == 0 || a.cols == 0 || !a.data)
      throw Error(ExitCode::kUsage, "input '" + spec + "': matrix '" + a.name + "' is empty");
    if (src->find(a.name)) throw Error(ExitCode::kUsage, "input '" + spec + "': matrix '" + a.name + "' appears twice");
    src->matrices_.push_back({a.name, a.rows, a.cols, a.name});
    src->arrays_.push_back(a.data);
  }
  return src;
}

void MatrixSource::filter(const std::regex& re) {
  std::vector<MatrixEntry> kept;
  std::vector<uint64_t> seeds;
  std::vector<const float*> arrays;
  for (size_t i = 0; i < matrices_.size(); ++i) {
    if (!std::regex_search(matrices_[i].name, re)) continue;
    kept.push_back(matrices_[i]);
    if (!synth_seeds_.empty()) seeds.push_back(synth_seeds_[i]);
    if (!arrays_.empty()) arrays.push_back(arrays_[i]);
  }
  matrices_ = std::move(kept);
  synth_seeds_ = std::move(seeds);
  arrays_ = std::move(arrays);
}

const MatrixEntry* MatrixSource::find(const std::string& name) const {
  for (const auto& m : matrices_)
    if (m.name == name) return &m;
  return nullptr;
}

std::vector<float> MatrixSource::load(const MatrixEntry& m) const {
  std::vector<float> w;
  load_into(m, &w);
  return w;
}

void MatrixSource::load_into(const MatrixEntry& m, std::vector<float>* w) const {
  if (file_) {
    const TensorInfo* t = file_->find(m.source);
    if (!t) throw Error(ExitCode::kInternal, "tensor '" + m.source + "' vanished from " + spec_);
    w->resize(size_t(m.rows) * m.cols);
    // A stacked [experts, rows, cols] tensor reads as experts rows of rows*cols.
    if (m.expert >= 0)
      file_->read_rows(*t, uint64_t(m.expert), 1, w->data());
    else
      file_->read_rows(*t, 0, m.rows, w->data());
    return;
  }
  size_t i = 0;
  while (i < matrices_.size() && matrices_[i].name != m.name) ++i;
  if (i == matrices_.size()) throw Error(ExitCode::kInternal, "matrix '" + m.name + "' is not in " + spec_);
  if (!arrays_.empty()) {
    const float* a = arrays_[i];
    for (size_t e = 0, n = size_t(m.rows) * m.cols; e < n; ++e)
      if (!std::isfinite(a[e]))
        fail_input(spec_, m.name, -1,
                   "row " + std::to_string(e / m.cols) + ", column " + std::to_string(e % m.cols) + " is " +
                       (std::isnan(a[e]) ? "NaN" : "Inf"));
    w->assign(a, a + size_t(m.rows) * m.cols);
    return;
  }
  // Synthetic: the default set keeps its documented per-tensor spec; other
  // shapes use the generator defaults. Seeds are fixed when the source opens.
  SynthSpec s;
  for (const auto& t : default_synth_set(1))
    if (t.name == m.name) s = t.spec;
  s.seed = synth_seeds_[i];
  s.rows = m.rows;
  s.cols = m.cols;
  *w = synth_matrix(s);
}

}  // namespace lutc

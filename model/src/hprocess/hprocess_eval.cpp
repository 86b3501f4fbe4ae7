// One H-Process candidate: every matrix quantized at its role's floor (reused
// from the per-(tensor, floor) cache when already done), its bytes and peak
// working set, and the generation bench on the decoded model.
#include <algorithm>
#include <chrono>

#include "lutc/model/error.h"
#include "lutc/model/hprocess.h"
#include "lutc/model/quantize.h"
#include "lutc/model/weights.h"

namespace lutc {

Hprocess::Hprocess(const std::string& model_path, const HprocessOptions& opt) : opt_(opt) {
  file_ = WeightFile::open(model_path);
  cfg_ = llama_config_from(*file_);
  const auto weights = std::make_shared<const FileWeights>(file_);
  in_memory_bytes_ = 3 * weights->fp32_bytes();
  streaming_ =
      choose_residency(opt_.stream, in_memory_bytes_,
                       opt_.max_memory_bytes ? opt_.max_memory_bytes : default_memory_budget()) == Residency::kStream;
  if (streaming_) {
    fp32_model_ = std::make_unique<LlamaModel>(cfg_, weights);
  } else {
    fp32_ = load_tensors(*file_);
    fp32_model_ = std::make_unique<LlamaModel>(cfg_, fp32_);
  }
  ref_ = make_reference(*fp32_model_, opt_.bench);
  const RoleRules rules;
  for (const TensorInfo& t : file_->tensors()) {
    if (t.is_matrix()) {
      matrices_.push_back(t.name);
      roles_.push_back(rules.classify(t.name));
    } else {
      other_bytes_ += t.elements() * 4;
    }
  }
  if (matrices_.empty()) fail_input(model_path, "", -1, "no 2-D tensor to quantize");
}

Hprocess::~Hprocess() = default;

uint64_t Hprocess::fp16_bytes() const {
  uint64_t n = 0;
  for (const TensorInfo& t : file_->tensors()) n += t.elements();
  return 2 * n;
}

const CachedLayer& Hprocess::layer_at(size_t i, double floor, uint32_t* fresh) {
  const auto key = std::make_pair(i, floor);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  const TensorInfo& t = *file_->find(matrices_[i]);
  CachedLayer c;
  {
    // Quantize-on-load, one tensor at a time: stage its fp32 rows from the
    // mapped file, quantize, keep only the result.
    HeapPeakMeter meter;
    std::vector<float> w(t.elements());
    file_->read_rows(t, 0, t.rows(), w.data());
    XfpOptions o;
    o.auto_mode = opt_.auto_mode;
    o.mode = Scheme::kXfpV2;
    o.max_bits = opt_.max_bits;
    o.floor_strict = floor;
    o.floor_lazy = floor;
    o.threads = opt_.threads;
    XfpChoice ch;
    c.layer = quantize_xfp(t.name, roles_[i], w.data(), uint32_t(t.rows()), uint32_t(t.cols()), o, &ch);
    c.floor_met = ch.floor_met;
    const uint64_t measured = meter.stop();
    c.stored_bytes = (stored_bits(c.layer) + 7) / 8;
    // The staging buffer and the result are certainly live at the end; the
    // meter can only add what the quantizer used in between.
    c.transient_bytes = std::max<uint64_t>(measured, w.size() * 4 + c.stored_bytes);
  }
  c.cos_floor = floor;
  ++*fresh;
  return cache_.emplace(key, std::move(c)).first->second;
}

HprocessPoint Hprocess::evaluate(double floor_strict, double floor_lazy, const std::string& step) {
  const auto t0 = std::chrono::steady_clock::now();
  HprocessPoint p;
  p.step = step;
  p.floor_strict = floor_strict;
  p.floor_lazy = floor_lazy;
  XfpFile f;
  f.metadata["source"] = file_->path();
  f.metadata["producer"] = "lutc hprocess";
  f.metadata["floor_strict"] = std::to_string(floor_strict);
  f.metadata["floor_lazy"] = std::to_string(floor_lazy);
  uint64_t layer_bytes = 0, bits = 0, elements = 0;
  for (size_t i = 0; i < matrices_.size(); ++i) {
    const double floor = role_uses_lazy_floor(roles_[i]) ? floor_lazy : floor_strict;
    const uint32_t before = p.quantized;
    const CachedLayer& c = layer_at(i, floor, &p.quantized);
    p.cache_hits += p.quantized == before;
    layer_bytes += c.stored_bytes;
    bits += stored_bits(c.layer);
    elements += c.layer.elements();
    p.peak_transient = std::max(p.peak_transient, c.transient_bytes);
    f.layers.push_back(c.layer);
  }
  const uint64_t header = file_header_bytes(f);
  p.model_bytes = layer_bytes + header + other_bytes_;
  p.need_bytes = p.model_bytes + p.peak_transient;
  p.bpw = double(bits + 8 * header) / double(elements);
  if (opt_.loader_budget_bytes)
    p.fits =
        (opt_.budget_bytes == 0 || p.model_bytes <= opt_.budget_bytes) && p.peak_transient <= opt_.loader_budget_bytes;
  else
    p.fits = opt_.budget_bytes == 0 || p.need_bytes <= opt_.budget_bytes;
  if (streaming_ || opt_.projections) {
    // Streaming: each fetch decodes (or, with a backend, prepares) one cached
    // layer, or reads one source tensor: no fp32 copy of the model. In memory
    // with a backend: the backend's form of every cached layer, the other
    // tensors read from the file.
    const LlamaModel q(cfg_, std::make_shared<const FileWeights>(file_, &f),
                       streaming_ ? Residency::kStream : Residency::kMemory, opt_.projections);
    p.lm = evaluate_lm(q, ref_);
  } else {
    TensorMap t = fp32_;
    apply_xfp(t, f);
    const LlamaModel q(cfg_, std::move(t));
    p.lm = evaluate_lm(q, ref_);
  }
  p.garbage = opt_.garbage.is_garbage(p.lm);
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return p;
}

XfpFile Hprocess::file_at(double floor_strict, double floor_lazy) {
  XfpFile f;
  f.metadata["source"] = file_->path();
  f.metadata["producer"] = "lutc hprocess";
  f.metadata["floor_strict"] = std::to_string(floor_strict);
  f.metadata["floor_lazy"] = std::to_string(floor_lazy);
  uint32_t fresh = 0;
  for (size_t i = 0; i < matrices_.size(); ++i)
    f.layers.push_back(layer_at(i, role_uses_lazy_floor(roles_[i]) ? floor_lazy : floor_strict, &fresh).layer);
  return f;
}

}  // namespace lutc

// The reference forward pass (docs/lm-eval.md "Forward pass"). Two paths that
// share the layer weights but not the attention code: step() with a KV cache,
// one token at a time, and forward_all() over a whole sequence with causal
// matrix products. Tests hold them equal, which checks the cache bookkeeping.
// Both take an optional ProjectionObserver (lutc act-stats); without one the
// only extra work is a null test per projection. A matrix is fp32 (Eigen) or
// a ProjectionBackend's form of a quantized layer; with fp32 weights every
// product is the Eigen expression it always was, so the golden path's logits
// do not depend on whether a backend exists.
#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#include "lutc/model/error.h"
#include "lutc/model/layer.h"
#include "lutc/model/llama.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"

namespace lutc {
namespace {

std::string layer_name(uint32_t i, const char* rest) { return "model.layers." + std::to_string(i) + "." + rest; }

float silu(float x) { return x / (1.f + std::exp(-x)); }

// x * w^T as the golden path has always computed it (one Eigen product,
// evaluated into a new matrix).
RowMatrix times_transpose(const RowMatrix& x, const RowMatrix& w) { return x * w.transpose(); }

void softmax_in_place(float* x, size_t n) {
  const float mx = *std::max_element(x, x + n);
  float sum = 0;
  for (size_t i = 0; i < n; ++i) sum += (x[i] = std::exp(x[i] - mx));
  for (size_t i = 0; i < n; ++i) x[i] /= sum;
}

}  // namespace

struct LlamaModel::Peak {
  std::mutex mu;
  uint64_t held = 0, fp32 = 0;
};

void LlamaModel::observe(ProjectionObserver* obs, const Weight& w, const RowMatrix& x) {
  if (!w.name) throw Error(ExitCode::kInternal, "forward pass: a projection weight has no tensor name");
  obs->on_input(*w.name, x);
}

void LlamaModel::check_shape(const std::string& name, uint64_t rows, uint64_t cols, uint64_t have_rows,
                             uint64_t have_cols) const {
  if (have_rows != rows || have_cols != cols)
    throw Error(ExitCode::kBadInput, "model tensor '" + name + "' has shape " + std::to_string(have_rows) + "x" +
                                         std::to_string(have_cols) + ", the config needs " + std::to_string(rows) +
                                         "x" + std::to_string(cols));
}

LlamaModel::Weight LlamaModel::need(const std::string& name, uint64_t rows, uint64_t cols) const {
  auto p = prepared_.find(name);
  if (p != prepared_.end()) {
    check_shape(name, rows, cols, p->second->rows(), p->second->cols());
    return {nullptr, p->second.get(), &p->first};
  }
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error(ExitCode::kBadInput, "model tensor '" + name + "' is missing");
  check_shape(name, rows, cols, uint64_t(it->second.rows()), uint64_t(it->second.cols()));
  return {&it->second, nullptr, &it->first};
}

LlamaModel::Layer LlamaModel::make_layer(uint32_t i, const Getter& get) const {
  const LlamaConfig& cfg = cfg_;
  const uint32_t d = cfg.dim, kv = cfg.kv_dim(), qd = cfg.q_dim(), h = cfg.hidden_dim, hs = cfg.head_size();
  // Expert tensor names of the two MoE conventions: router, then the gate, up
  // and down projections of expert E under "<prefix>experts.E.".
  const bool mixtral = cfg.moe_names == MoeNames::kMixtral;
  const std::string moe = mixtral ? "block_sparse_moe." : "mlp.";
  const char* ex_names[3] = {mixtral ? "w1.weight" : "gate_proj.weight", mixtral ? "w3.weight" : "up_proj.weight",
                             mixtral ? "w2.weight" : "down_proj.weight"};
  const auto mat = [&](const std::string& name, uint64_t r, uint64_t c) { return get(name, r, c, true); };
  const auto vec = [&](const std::string& name, uint64_t r) { return get(name, r, 1, false).fp32; };
  Layer l{};
  l.att_norm = vec(layer_name(i, "input_layernorm.weight"), d);
  l.wq = mat(layer_name(i, "self_attn.q_proj.weight"), qd, d);
  l.wk = mat(layer_name(i, "self_attn.k_proj.weight"), kv, d);
  l.wv = mat(layer_name(i, "self_attn.v_proj.weight"), kv, d);
  l.wo = mat(layer_name(i, "self_attn.o_proj.weight"), d, qd);
  if (cfg.qkv_bias) {
    l.bq = vec(layer_name(i, "self_attn.q_proj.bias"), qd);
    l.bk = vec(layer_name(i, "self_attn.k_proj.bias"), kv);
    l.bv = vec(layer_name(i, "self_attn.v_proj.bias"), kv);
  }
  if (cfg.o_bias) l.bo = vec(layer_name(i, "self_attn.o_proj.bias"), d);
  if (cfg.qk_norm) {
    l.q_norm = vec(layer_name(i, "self_attn.q_norm.weight"), hs);
    l.k_norm = vec(layer_name(i, "self_attn.k_norm.weight"), hs);
  }
  l.ffn_norm = vec(layer_name(i, "post_attention_layernorm.weight"), d);
  if (cfg.moe()) {
    l.router = mat(layer_name(i, (moe + "gate.weight").c_str()), cfg.n_experts, d);
    const uint32_t eh = cfg.moe_hidden_dim;
    for (uint32_t e = 0; e < cfg.n_experts; ++e) {
      const std::string p = moe + "experts." + std::to_string(e) + ".";
      l.ex_gate.push_back(mat(layer_name(i, (p + ex_names[0]).c_str()), eh, d));
      l.ex_up.push_back(mat(layer_name(i, (p + ex_names[1]).c_str()), eh, d));
      l.ex_down.push_back(mat(layer_name(i, (p + ex_names[2]).c_str()), d, eh));
    }
    if (cfg.shared_hidden_dim) {
      const uint32_t sh = cfg.shared_hidden_dim;
      l.sh_gate = mat(layer_name(i, "mlp.shared_expert.gate_proj.weight"), sh, d);
      l.sh_up = mat(layer_name(i, "mlp.shared_expert.up_proj.weight"), sh, d);
      l.sh_down = mat(layer_name(i, "mlp.shared_expert.down_proj.weight"), d, sh);
      l.sh_mix = mat(layer_name(i, "mlp.shared_expert_gate.weight"), 1, d);
    }
  } else {
    l.w_gate = mat(layer_name(i, "mlp.gate_proj.weight"), h, d);
    l.w_up = mat(layer_name(i, "mlp.up_proj.weight"), h, d);
    l.w_down = mat(layer_name(i, "mlp.down_proj.weight"), d, h);
  }
  return l;
}

namespace {
void refuse_unsupported(const LlamaConfig& cfg) {
  if (!cfg.unsupported.empty()) {
    throw Error(ExitCode::kBadInput, "the reference forward pass cannot run this model" +
                                         (cfg.model_type.empty() ? std::string() : " (" + cfg.model_type + ")") + ": " +
                                         cfg.unsupported);
  }
}
}  // namespace

const std::string& LlamaModel::classifier_name() const {
  static const std::string embed = "model.embed_tokens.weight", head = "lm_head.weight";
  return cfg_.tied_classifier ? embed : head;
}

LlamaModel::LlamaModel(const LlamaConfig& cfg, TensorMap tensors) : cfg_(cfg), tensors_(std::move(tensors)) {
  refuse_unsupported(cfg);
  for (const auto& [name, t] : tensors_) shapes_[name] = {uint64_t(t.rows()), uint64_t(t.cols())};
  bind_resident();
}

LlamaModel::LlamaModel(const LlamaConfig& cfg, std::shared_ptr<const WeightProvider> weights)
    : LlamaModel(cfg, std::move(weights), Residency::kStream, nullptr) {}

LlamaModel::LlamaModel(const LlamaConfig& cfg, std::shared_ptr<const WeightProvider> weights, Residency residency,
                       std::shared_ptr<const ProjectionBackend> backend)
    : cfg_(cfg),
      source_(std::move(weights)),
      backend_(std::move(backend)),
      shapes_(source_->shapes()),
      peak_(std::make_shared<Peak>()) {
  refuse_unsupported(cfg);
  if (backend_) {
    replaced_.backend = backend_->name();
    replaced_.threads = backend_->threads();
  }
  for (const auto& [name, s] : shapes_) replaced_.tensors += s.second > 1 && source_->replaces(name);
  if (residency == Residency::kStream) {
    weights_ = source_;
    // Every tensor's presence and shape, checked without fetching it.
    const Getter check = [this](const std::string& name, uint64_t r, uint64_t c, bool /*matrix*/) {
      auto it = shapes_.find(name);
      if (it == shapes_.end()) throw Error(ExitCode::kBadInput, "model tensor '" + name + "' is missing");
      check_shape(name, r, c, it->second.first, it->second.second);
      return Weight{};
    };
    check("model.embed_tokens.weight", cfg.vocab_size, cfg.dim, true);
    check("model.norm.weight", cfg.dim, 1, false);
    if (!cfg.tied_classifier) check("lm_head.weight", cfg.vocab_size, cfg.dim, true);
    for (uint32_t i = 0; i < cfg.n_layers; ++i) make_layer(i, check);
    inv_freq_ = rope_inv_freq(cfg);
    return;
  }
  // In memory: what load_all(*source_) holds (same order, same values), but
  // the backend's form in place of each tensor it takes.
  for (const auto& [name, s] : shapes_) {
    const uint64_t bytes = s.first * s.second * 4;
    if (backend_takes(name, s.second > 1)) {
      std::unique_ptr<ProjectionWeight> w = prepare(name);
      replaced_.held_bytes += w->resident_bytes();
      replaced_.fp32_bytes += bytes;
      prepared_.emplace(name, std::move(w));
      continue;
    }
    tensors_.emplace(name, source_->fetch(name));
    if (s.second > 1 && source_->replaces(name)) {
      replaced_.held_bytes += bytes;
      replaced_.fp32_bytes += bytes;
    }
  }
  bind_resident();
}

void LlamaModel::bind_resident() {
  embed_ = need("model.embed_tokens.weight", cfg_.vocab_size, cfg_.dim);
  final_norm_ = need("model.norm.weight", cfg_.dim, 1);
  if (final_norm_.op) throw Error(ExitCode::kInternal, "forward pass: the final norm went to a projection backend");
  classifier_ = cfg_.tied_classifier ? embed_ : need("lm_head.weight", cfg_.vocab_size, cfg_.dim);
  const Getter get = [this](const std::string& name, uint64_t r, uint64_t c, bool /*matrix*/) {
    return need(name, r, c);
  };
  for (uint32_t i = 0; i < cfg_.n_layers; ++i) layers_.push_back(make_layer(i, get));
  inv_freq_ = rope_inv_freq(cfg_);
}

bool LlamaModel::backend_takes(const std::string& name, bool matrix) const {
  if (!backend_ || !matrix || !source_->replaces(name)) return false;
  auto it = shapes_.find(name);
  return it != shapes_.end() && it->second.second > 1;
}

std::unique_ptr<ProjectionWeight> LlamaModel::prepare(const std::string& name) const {
  QuantizedLayer storage;
  const QuantizedLayer* q = source_->quantized(name, storage);
  if (!q) throw Error(ExitCode::kInternal, "forward pass: no quantized layer for '" + name + "'");
  std::unique_ptr<ProjectionWeight> w = backend_->prepare(name, *q);
  const auto& s = shapes_.at(name);
  check_shape(name, s.first, s.second, w->rows(), w->cols());
  return w;
}

LlamaModel::Weight LlamaModel::fetch_into(const std::string& name, bool matrix, Held& held) const {
  if (backend_takes(name, matrix)) {
    std::unique_ptr<ProjectionWeight> w = prepare(name);
    held.held_bytes += w->resident_bytes();
    held.fp32_bytes += w->rows() * w->cols() * 4;
    auto it = held.ops.emplace(name, std::move(w)).first;
    return {nullptr, it->second.get(), &it->first};
  }
  auto it = held.t.emplace(name, weights_->fetch(name)).first;
  const RowMatrix& m = it->second;
  if (m.cols() > 1 && weights_->replaces(name)) {
    held.held_bytes += uint64_t(m.size()) * 4;
    held.fp32_bytes += uint64_t(m.size()) * 4;
  }
  return {&m, nullptr, &it->first};
}

void LlamaModel::note_held(const Held& layer, const Held& globals) const {
  const uint64_t held = layer.held_bytes + globals.held_bytes;
  const std::lock_guard<std::mutex> lock(peak_->mu);
  if (held > peak_->held) {
    peak_->held = held;
    peak_->fp32 = layer.fp32_bytes + globals.fp32_bytes;
  }
}

LlamaModel::ReplacedMemory LlamaModel::replaced_memory() const {
  ReplacedMemory r = replaced_;
  if (weights_) {
    const std::lock_guard<std::mutex> lock(peak_->mu);
    r.held_bytes = peak_->held;
    r.fp32_bytes = peak_->fp32;
  }
  return r;
}

LlamaModel::Layer LlamaModel::bind_layer(uint32_t i, Held& held) const {
  if (!weights_) return layers_[i];
  held = Held();
  const Getter fetch = [&](const std::string& name, uint64_t r, uint64_t c, bool matrix) {
    const Weight w = fetch_into(name, matrix, held);
    check_shape(name, r, c, w.op ? w.op->rows() : uint64_t(w.fp32->rows()),
                w.op ? w.op->cols() : uint64_t(w.fp32->cols()));
    return w;
  };
  return make_layer(i, fetch);
}

LlamaModel::Weight LlamaModel::global(const std::string& name, Held& held) const {
  if (!weights_) return name == "model.norm.weight" ? final_norm_ : name == "lm_head.weight" ? classifier_ : embed_;
  auto p = held.ops.find(name);
  if (p != held.ops.end()) return {nullptr, p->second.get(), &p->first};
  auto it = held.t.find(name);
  if (it != held.t.end()) return {&it->second, nullptr, &it->first};
  return fetch_into(name, name != "model.norm.weight", held);
}

std::unique_ptr<LlamaModel> LlamaModel::open(const std::string& path, const std::string& xfp_path,
                                             Residency residency) {
  std::shared_ptr<const WeightFile> file = WeightFile::open(path);
  const LlamaConfig cfg = llama_config_from(*file);
  auto weights = std::make_shared<const FileWeights>(file, xfp_path);
  if (residency == Residency::kStream) return std::make_unique<LlamaModel>(cfg, std::move(weights));
  return std::make_unique<LlamaModel>(cfg, load_all(*weights));
}

KvCache LlamaModel::new_cache() const {
  KvCache c;
  // Rows grow as positions arrive: a config.json's seq_len (128k for Llama
  // 3.1) would otherwise allocate gigabytes up front.
  for (uint32_t i = 0; i < cfg_.n_layers; ++i) {
    c.k.emplace_back(RowMatrix::Zero(std::min<uint32_t>(cfg_.seq_len, 64), cfg_.kv_dim()));
    c.v.emplace_back(RowMatrix::Zero(std::min<uint32_t>(cfg_.seq_len, 64), cfg_.kv_dim()));
  }
  return c;
}

void LlamaModel::rope(float* x, uint32_t n_heads, uint32_t pos) const {
  const uint32_t hs = cfg_.head_size(), half = hs / 2;
  for (uint32_t h = 0; h < n_heads; ++h) {
    float* head = x + size_t(h) * hs;
    for (uint32_t i = 0; i < half; ++i) {
      const float angle = float(pos) * inv_freq_[i];
      const float c = std::cos(angle), s = std::sin(angle);
      float& a = cfg_.rope_layout == RopeLayout::kInterleaved ? head[2 * i] : head[i];
      float& b = cfg_.rope_layout == RopeLayout::kInterleaved ? head[2 * i + 1] : head[i + half];
      const float a0 = a, b0 = b;
      a = a0 * c - b0 * s;
      b = a0 * s + b0 * c;
    }
  }
}

void LlamaModel::head_norm(RowMatrix& x, const RowMatrix* w, uint32_t n_heads) const {
  if (!w) return;
  const uint32_t hs = cfg_.head_size();
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    for (uint32_t h = 0; h < n_heads; ++h) {
      auto head = x.row(r).segment(Eigen::Index(h) * hs, hs);
      const float ms = head.squaredNorm() / float(hs);
      head = head.cwiseProduct(w->col(0).transpose()) / std::sqrt(ms + cfg_.rms_eps);
    }
  }
}

RowMatrix LlamaModel::times(const RowMatrix& x, const Weight& w) {
  return w.op ? w.op->multiply(x) : times_transpose(x, *w.fp32);
}

RowMatrix LlamaModel::project(const RowMatrix& x, const Weight& w, const RowMatrix* bias) const {
  RowMatrix y = times(x, w);
  if (bias) y.rowwise() += bias->col(0).transpose();
  return y;
}

void LlamaModel::embed_row(const Weight& embed, int32_t token, RowMatrix& x, Eigen::Index row) const {
  if (embed.op)
    embed.op->decode_rows(uint64_t(token), 1, x.row(row).data());
  else
    x.row(row) = embed.fp32->row(token);
}

RowMatrix LlamaModel::rmsnorm_rows(const RowMatrix& x, const RowMatrix& w) const {
  RowMatrix y(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const float ms = x.row(r).squaredNorm() / float(x.cols());
    y.row(r) = x.row(r).cwiseProduct(w.col(0).transpose()) / std::sqrt(ms + cfg_.rms_eps);
  }
  return y;
}

RowMatrix LlamaModel::swiglu(const RowMatrix& x, const Weight& gate, const Weight& up, const Weight& down,
                             ProjectionObserver* obs) const {
  if (obs) {
    observe(obs, gate, x);
    observe(obs, up, x);
  }
  RowMatrix g = times(x, gate);
  const RowMatrix u = times(x, up);
  g = g.unaryExpr([](float v) { return silu(v); }).cwiseProduct(u);
  if (obs) observe(obs, down, g);
  return times(g, down);
}

RowMatrix LlamaModel::mlp(const Layer& l, const RowMatrix& x, ProjectionObserver* obs) const {
  if (!cfg_.moe()) return swiglu(x, l.w_gate, l.w_up, l.w_down, obs);
  RowMatrix out = RowMatrix::Zero(x.rows(), x.cols());
  if (obs) observe(obs, l.router, x);
  const RowMatrix router = times(x, l.router);
  std::vector<uint32_t> order(cfg_.n_experts);
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    std::vector<float> p(router.row(r).data(), router.row(r).data() + cfg_.n_experts);
    softmax_in_place(p.data(), p.size());
    for (uint32_t e = 0; e < cfg_.n_experts; ++e) order[e] = e;
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return p[a] > p[b]; });
    const RowMatrix xr = x.row(r);
    float top = 0;
    for (uint32_t j = 0; j < cfg_.n_experts_per_tok; ++j) top += p[order[j]];
    const float norm = cfg_.norm_topk_prob ? 1.f / top : 1.f;
    for (uint32_t j = 0; j < cfg_.n_experts_per_tok; ++j) {
      const uint32_t e = order[j];
      out.row(r) += (p[e] * norm) * swiglu(xr, l.ex_gate[e], l.ex_up[e], l.ex_down[e], obs);
    }
    if (l.sh_gate.fp32 || l.sh_gate.op) {
      if (obs) observe(obs, l.sh_mix, xr);
      const float dot = l.sh_mix.op ? l.sh_mix.op->multiply(xr)(0, 0) : xr.row(0).dot(l.sh_mix.fp32->row(0));
      const float mix = 1.f / (1.f + std::exp(-dot));
      out.row(r) += mix * swiglu(xr, l.sh_gate, l.sh_up, l.sh_down, obs);
    }
  }
  return out;
}

Eigen::VectorXf LlamaModel::step(int32_t token, KvCache& cache, ProjectionObserver* obs) const {
  return step_batch({token}, {&cache}, obs)[0];
}

std::vector<Eigen::VectorXf> LlamaModel::step_batch(const std::vector<int32_t>& tokens,
                                                    const std::vector<KvCache*>& caches,
                                                    ProjectionObserver* obs) const {
  if (tokens.size() != caches.size())
    throw Error(ExitCode::kInternal, "step_batch: " + std::to_string(tokens.size()) + " tokens for " +
                                         std::to_string(caches.size()) + " caches");
  for (size_t b = 0; b < tokens.size(); ++b) {
    if (tokens[b] < 0 || uint32_t(tokens[b]) >= cfg_.vocab_size)
      throw Error(ExitCode::kBadInput, "token id " + std::to_string(tokens[b]) + " is outside the vocabulary");
    if (caches[b]->length >= cfg_.seq_len)
      throw Error(ExitCode::kBadInput, "sequence longer than the model's seq_len " + std::to_string(cfg_.seq_len));
  }
  const uint32_t hs = cfg_.head_size(), group = cfg_.n_heads / cfg_.n_kv_heads;
  const float scale = 1.f / std::sqrt(float(hs));
  const size_t B = tokens.size();
  Held globals, held;
  std::vector<RowMatrix> xs(B);
  {
    const Weight embed = global("model.embed_tokens.weight", globals);
    if (weights_) note_held(held, globals);
    for (size_t b = 0; b < B; ++b) {
      xs[b].resize(1, cfg_.dim);
      embed_row(embed, tokens[b], xs[b], 0);
    }
    if (weights_ && !cfg_.tied_classifier) globals = Held();  // not needed again: drop it before the layers
  }
  for (uint32_t li = 0; li < cfg_.n_layers; ++li) {
    const Layer l = bind_layer(li, held);
    if (weights_) note_held(held, globals);
    for (size_t b = 0; b < B; ++b) {
      KvCache& cache = *caches[b];
      RowMatrix& x = xs[b];
      const uint32_t pos = cache.length;
      std::vector<float> scores(pos + 1);
      const RowMatrix xb = rmsnorm_rows(x, *l.att_norm);
      if (obs) {
        observe(obs, l.wq, xb);
        observe(obs, l.wk, xb);
        observe(obs, l.wv, xb);
      }
      RowMatrix q = project(xb, l.wq, l.bq);
      RowMatrix k = project(xb, l.wk, l.bk);
      head_norm(q, l.q_norm, cfg_.n_heads);
      head_norm(k, l.k_norm, cfg_.n_kv_heads);
      rope(q.data(), cfg_.n_heads, pos);
      rope(k.data(), cfg_.n_kv_heads, pos);
      if (cache.k[li].rows() <= Eigen::Index(pos)) {
        const Eigen::Index rows = std::min<Eigen::Index>(cfg_.seq_len, 2 * Eigen::Index(pos) + 64);
        cache.k[li].conservativeResize(rows, Eigen::NoChange);
        cache.v[li].conservativeResize(rows, Eigen::NoChange);
      }
      cache.k[li].row(pos) = k;
      cache.v[li].row(pos) = project(xb, l.wv, l.bv);
      RowMatrix att = RowMatrix::Zero(1, cfg_.q_dim());
      for (uint32_t h = 0; h < cfg_.n_heads; ++h) {
        const uint32_t kvo = (h / group) * hs;
        for (uint32_t t = 0; t <= pos; ++t)
          scores[t] = scale * q.row(0).segment(h * hs, hs).dot(cache.k[li].row(t).segment(kvo, hs));
        softmax_in_place(scores.data(), pos + 1);
        for (uint32_t t = 0; t <= pos; ++t)
          att.row(0).segment(h * hs, hs) += scores[t] * cache.v[li].row(t).segment(kvo, hs);
      }
      if (obs) observe(obs, l.wo, att);
      x += project(att, l.wo, l.bo);
      x += mlp(l, rmsnorm_rows(x, *l.ffn_norm), obs);
    }
  }
  held = Held();
  const RowMatrix* final_norm = global("model.norm.weight", globals).fp32;
  const Weight classifier = global(classifier_name(), globals);
  if (weights_) note_held(held, globals);
  std::vector<Eigen::VectorXf> logits(B);
  for (size_t b = 0; b < B; ++b) {
    caches[b]->length += 1;
    const RowMatrix xf = rmsnorm_rows(xs[b], *final_norm);
    if (obs) observe(obs, classifier, xf);
    if (classifier.op)
      logits[b] = classifier.op->multiply(xf).row(0).transpose();
    else
      logits[b] = (*classifier.fp32 * xf.transpose()).col(0);
  }
  return logits;
}

RowMatrix LlamaModel::forward_all(const std::vector<int32_t>& tokens, ProjectionObserver* obs) const {
  const Eigen::Index T = Eigen::Index(tokens.size());
  if (T == 0 || uint64_t(T) > cfg_.seq_len)
    throw Error(ExitCode::kBadInput,
                "sequence length " + std::to_string(T) + " is outside 1.." + std::to_string(cfg_.seq_len));
  const uint32_t hs = cfg_.head_size(), group = cfg_.n_heads / cfg_.n_kv_heads;
  for (Eigen::Index t = 0; t < T; ++t)
    if (tokens[t] < 0 || uint32_t(tokens[t]) >= cfg_.vocab_size)
      throw Error(ExitCode::kBadInput, "token id " + std::to_string(tokens[t]) + " is outside the vocabulary");
  // Layer-major: a streaming model holds layer i's weights (fetched once for
  // the whole sequence) only while they multiply every position.
  Held globals, held;
  RowMatrix x(T, cfg_.dim);
  {
    const Weight embed = global("model.embed_tokens.weight", globals);
    if (weights_) note_held(held, globals);
    for (Eigen::Index t = 0; t < T; ++t) embed_row(embed, tokens[t], x, t);
    if (weights_ && !cfg_.tied_classifier) globals = Held();
  }
  for (uint32_t li = 0; li < cfg_.n_layers; ++li) {
    const Layer l = bind_layer(li, held);
    if (weights_) note_held(held, globals);
    const RowMatrix xb = rmsnorm_rows(x, *l.att_norm);
    if (obs) {
      observe(obs, l.wq, xb);
      observe(obs, l.wk, xb);
      observe(obs, l.wv, xb);
    }
    RowMatrix q = project(xb, l.wq, l.bq), k = project(xb, l.wk, l.bk);
    const RowMatrix v = project(xb, l.wv, l.bv);
    head_norm(q, l.q_norm, cfg_.n_heads);
    head_norm(k, l.k_norm, cfg_.n_kv_heads);
    for (Eigen::Index t = 0; t < T; ++t) {
      rope(q.row(t).data(), cfg_.n_heads, uint32_t(t));
      rope(k.row(t).data(), cfg_.n_kv_heads, uint32_t(t));
    }
    RowMatrix att(T, cfg_.q_dim());
    for (uint32_t h = 0; h < cfg_.n_heads; ++h) {
      const uint32_t kvo = (h / group) * hs;
      RowMatrix s = (q.middleCols(h * hs, hs) * k.middleCols(kvo, hs).transpose()) / std::sqrt(float(hs));
      for (Eigen::Index t = 0; t < T; ++t) {
        for (Eigen::Index u = t + 1; u < T; ++u) s(t, u) = -std::numeric_limits<float>::infinity();
        softmax_in_place(s.row(t).data(), size_t(T));
      }
      att.middleCols(h * hs, hs) = s * v.middleCols(kvo, hs);
    }
    if (obs) observe(obs, l.wo, att);
    x += project(att, l.wo, l.bo);
    x += mlp(l, rmsnorm_rows(x, *l.ffn_norm), obs);
  }
  held = Held();
  const RowMatrix* final_norm = global("model.norm.weight", globals).fp32;
  const Weight classifier = global(classifier_name(), globals);
  if (weights_) note_held(held, globals);
  if (!obs && !classifier.op) return rmsnorm_rows(x, *final_norm) * classifier.fp32->transpose();
  const RowMatrix xf = rmsnorm_rows(x, *final_norm);
  if (obs) observe(obs, classifier, xf);
  return times(xf, classifier);
}

}  // namespace lutc

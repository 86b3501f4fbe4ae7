// The reference forward pass (docs/lm-eval.md "Forward pass"). Two paths that
// share the layer weights but not the attention code: step() with a KV cache,
// one token at a time, and forward_all() over a whole sequence with causal
// matrix products. Tests hold them equal, which checks the cache bookkeeping.
// Both take an optional ProjectionObserver (lutc act-stats); without one the
// only extra work is a null test per projection.
#include <algorithm>
#include <cmath>
#include <limits>

#include "lutc/model/error.h"
#include "lutc/model/llama.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"

namespace lutc {
namespace {

std::string layer_name(uint32_t i, const char* rest) { return "model.layers." + std::to_string(i) + "." + rest; }

float silu(float x) { return x / (1.f + std::exp(-x)); }

// SwiGLU: down(silu(gate x) * up x), for each row of x. `seen(w, in)` is
// called with each weight and its input before the product (a no-op on the
// plain path, where it inlines away).
template <class Seen>
RowMatrix swiglu(const RowMatrix& x, const RowMatrix& gate, const RowMatrix& up, const RowMatrix& down, Seen&& seen) {
  seen(&gate, x);
  seen(&up, x);
  RowMatrix g = x * gate.transpose();
  const RowMatrix u = x * up.transpose();
  g = g.unaryExpr([](float v) { return silu(v); }).cwiseProduct(u);
  seen(&down, g);
  return g * down.transpose();
}

void softmax_in_place(float* x, size_t n) {
  const float mx = *std::max_element(x, x + n);
  float sum = 0;
  for (size_t i = 0; i < n; ++i) sum += (x[i] = std::exp(x[i] - mx));
  for (size_t i = 0; i < n; ++i) x[i] /= sum;
}

}  // namespace

void LlamaModel::observe(ProjectionObserver* obs, const std::map<const RowMatrix*, std::string>* names,
                         const RowMatrix* w, const RowMatrix& x) const {
  const auto& n = names ? *names : names_;
  auto it = n.find(w);
  if (it == n.end()) throw Error(ExitCode::kInternal, "forward pass: a projection weight has no tensor name");
  obs->on_input(it->second, x);
}

void LlamaModel::check_shape(const std::string& name, uint64_t rows, uint64_t cols, uint64_t have_rows,
                             uint64_t have_cols) const {
  if (have_rows != rows || have_cols != cols)
    throw Error(ExitCode::kBadInput, "model tensor '" + name + "' has shape " + std::to_string(have_rows) + "x" +
                                         std::to_string(have_cols) + ", the config needs " + std::to_string(rows) +
                                         "x" + std::to_string(cols));
}

const RowMatrix& LlamaModel::need(const std::string& name, uint64_t rows, uint64_t cols) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error(ExitCode::kBadInput, "model tensor '" + name + "' is missing");
  check_shape(name, rows, cols, uint64_t(it->second.rows()), uint64_t(it->second.cols()));
  return it->second;
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
  Layer l{};
  l.att_norm = get(layer_name(i, "input_layernorm.weight"), d, 1);
  l.wq = get(layer_name(i, "self_attn.q_proj.weight"), qd, d);
  l.wk = get(layer_name(i, "self_attn.k_proj.weight"), kv, d);
  l.wv = get(layer_name(i, "self_attn.v_proj.weight"), kv, d);
  l.wo = get(layer_name(i, "self_attn.o_proj.weight"), d, qd);
  if (cfg.qkv_bias) {
    l.bq = get(layer_name(i, "self_attn.q_proj.bias"), qd, 1);
    l.bk = get(layer_name(i, "self_attn.k_proj.bias"), kv, 1);
    l.bv = get(layer_name(i, "self_attn.v_proj.bias"), kv, 1);
  }
  if (cfg.o_bias) l.bo = get(layer_name(i, "self_attn.o_proj.bias"), d, 1);
  if (cfg.qk_norm) {
    l.q_norm = get(layer_name(i, "self_attn.q_norm.weight"), hs, 1);
    l.k_norm = get(layer_name(i, "self_attn.k_norm.weight"), hs, 1);
  }
  l.ffn_norm = get(layer_name(i, "post_attention_layernorm.weight"), d, 1);
  if (cfg.moe()) {
    l.router = get(layer_name(i, (moe + "gate.weight").c_str()), cfg.n_experts, d);
    const uint32_t eh = cfg.moe_hidden_dim;
    for (uint32_t e = 0; e < cfg.n_experts; ++e) {
      const std::string p = moe + "experts." + std::to_string(e) + ".";
      l.ex_gate.push_back(get(layer_name(i, (p + ex_names[0]).c_str()), eh, d));
      l.ex_up.push_back(get(layer_name(i, (p + ex_names[1]).c_str()), eh, d));
      l.ex_down.push_back(get(layer_name(i, (p + ex_names[2]).c_str()), d, eh));
    }
    if (cfg.shared_hidden_dim) {
      const uint32_t sh = cfg.shared_hidden_dim;
      l.sh_gate = get(layer_name(i, "mlp.shared_expert.gate_proj.weight"), sh, d);
      l.sh_up = get(layer_name(i, "mlp.shared_expert.up_proj.weight"), sh, d);
      l.sh_down = get(layer_name(i, "mlp.shared_expert.down_proj.weight"), d, sh);
      l.sh_mix = get(layer_name(i, "mlp.shared_expert_gate.weight"), 1, d);
    }
  } else {
    l.w_gate = get(layer_name(i, "mlp.gate_proj.weight"), h, d);
    l.w_up = get(layer_name(i, "mlp.up_proj.weight"), h, d);
    l.w_down = get(layer_name(i, "mlp.down_proj.weight"), d, h);
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
  embed_ = &need("model.embed_tokens.weight", cfg.vocab_size, cfg.dim);
  final_norm_ = &need("model.norm.weight", cfg.dim, 1);
  classifier_ = cfg.tied_classifier ? embed_ : &need("lm_head.weight", cfg.vocab_size, cfg.dim);
  const Getter get = [this](const std::string& name, uint64_t r, uint64_t c) { return &need(name, r, c); };
  for (uint32_t i = 0; i < cfg.n_layers; ++i) layers_.push_back(make_layer(i, get));
  inv_freq_ = rope_inv_freq(cfg);
  for (const auto& [name, t] : tensors_) {
    names_.emplace(&t, name);
    shapes_[name] = {uint64_t(t.rows()), uint64_t(t.cols())};
  }
}

LlamaModel::LlamaModel(const LlamaConfig& cfg, std::shared_ptr<const WeightProvider> weights)
    : cfg_(cfg), weights_(std::move(weights)), shapes_(weights_->shapes()) {
  refuse_unsupported(cfg);
  // Every tensor's presence and shape, checked without fetching it.
  static const RowMatrix placeholder;
  const Getter check = [this](const std::string& name, uint64_t r, uint64_t c) {
    auto it = shapes_.find(name);
    if (it == shapes_.end()) throw Error(ExitCode::kBadInput, "model tensor '" + name + "' is missing");
    check_shape(name, r, c, it->second.first, it->second.second);
    return &placeholder;
  };
  check("model.embed_tokens.weight", cfg.vocab_size, cfg.dim);
  check("model.norm.weight", cfg.dim, 1);
  if (!cfg.tied_classifier) check("lm_head.weight", cfg.vocab_size, cfg.dim);
  for (uint32_t i = 0; i < cfg.n_layers; ++i) make_layer(i, check);
  inv_freq_ = rope_inv_freq(cfg);
}

LlamaModel::Layer LlamaModel::bind_layer(uint32_t i, Held& held) const {
  if (!weights_) return layers_[i];
  held.t.clear();
  held.names.clear();
  const Getter fetch = [&](const std::string& name, uint64_t r, uint64_t c) {
    RowMatrix& m = held.t.emplace(name, weights_->fetch(name)).first->second;
    check_shape(name, r, c, uint64_t(m.rows()), uint64_t(m.cols()));
    held.names.emplace(&m, name);
    return &m;
  };
  Layer l = make_layer(i, fetch);
  l.names = &held.names;
  return l;
}

const RowMatrix* LlamaModel::global(const std::string& name, Held& held) const {
  if (!weights_) return name == "model.norm.weight" ? final_norm_ : name == "lm_head.weight" ? classifier_ : embed_;
  auto it = held.t.find(name);
  if (it == held.t.end()) {
    it = held.t.emplace(name, weights_->fetch(name)).first;
    held.names.emplace(&it->second, name);
  }
  return &it->second;
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

RowMatrix LlamaModel::project(const RowMatrix& x, const RowMatrix* w, const RowMatrix* bias) const {
  RowMatrix y = x * w->transpose();
  if (bias) y.rowwise() += bias->col(0).transpose();
  return y;
}

RowMatrix LlamaModel::rmsnorm_rows(const RowMatrix& x, const RowMatrix& w) const {
  RowMatrix y(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const float ms = x.row(r).squaredNorm() / float(x.cols());
    y.row(r) = x.row(r).cwiseProduct(w.col(0).transpose()) / std::sqrt(ms + cfg_.rms_eps);
  }
  return y;
}

RowMatrix LlamaModel::mlp(const Layer& l, const RowMatrix& x, ProjectionObserver* obs) const {
  const auto seen = [&](const RowMatrix* w, const RowMatrix& in) {
    if (obs) observe(obs, l.names, w, in);
  };
  if (!cfg_.moe()) {
    if (!obs) return swiglu(x, *l.w_gate, *l.w_up, *l.w_down, [](const RowMatrix*, const RowMatrix&) {});
    return swiglu(x, *l.w_gate, *l.w_up, *l.w_down, seen);
  }
  RowMatrix out = RowMatrix::Zero(x.rows(), x.cols());
  if (obs) observe(obs, l.names, l.router, x);
  const RowMatrix router = x * l.router->transpose();
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
      out.row(r) += (p[e] * norm) * swiglu(xr, *l.ex_gate[e], *l.ex_up[e], *l.ex_down[e], seen);
    }
    if (l.sh_gate) {
      if (obs) observe(obs, l.names, l.sh_mix, xr);
      const float mix = 1.f / (1.f + std::exp(-(xr.row(0).dot(l.sh_mix->row(0)))));
      out.row(r) += mix * swiglu(xr, *l.sh_gate, *l.sh_up, *l.sh_down, seen);
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
    const RowMatrix* embed = global("model.embed_tokens.weight", globals);
    for (size_t b = 0; b < B; ++b) xs[b] = embed->row(tokens[b]);
    if (weights_ && !cfg_.tied_classifier) globals = Held();  // not needed again: drop it before the layers
  }
  for (uint32_t li = 0; li < cfg_.n_layers; ++li) {
    const Layer l = bind_layer(li, held);
    for (size_t b = 0; b < B; ++b) {
      KvCache& cache = *caches[b];
      RowMatrix& x = xs[b];
      const uint32_t pos = cache.length;
      std::vector<float> scores(pos + 1);
      const RowMatrix xb = rmsnorm_rows(x, *l.att_norm);
      if (obs) {
        observe(obs, l.names, l.wq, xb);
        observe(obs, l.names, l.wk, xb);
        observe(obs, l.names, l.wv, xb);
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
      if (obs) observe(obs, l.names, l.wo, att);
      x += project(att, l.wo, l.bo);
      x += mlp(l, rmsnorm_rows(x, *l.ffn_norm), obs);
    }
  }
  held = Held();
  const RowMatrix* final_norm = global("model.norm.weight", globals);
  const RowMatrix* classifier = global(classifier_name(), globals);
  std::vector<Eigen::VectorXf> logits(B);
  for (size_t b = 0; b < B; ++b) {
    caches[b]->length += 1;
    const RowMatrix xf = rmsnorm_rows(xs[b], *final_norm);
    if (obs) observe(obs, weights_ ? &globals.names : nullptr, classifier, xf);
    logits[b] = (*classifier * xf.transpose()).col(0);
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
    const RowMatrix* embed = global("model.embed_tokens.weight", globals);
    for (Eigen::Index t = 0; t < T; ++t) x.row(t) = embed->row(tokens[t]);
    if (weights_ && !cfg_.tied_classifier) globals = Held();
  }
  for (uint32_t li = 0; li < cfg_.n_layers; ++li) {
    const Layer l = bind_layer(li, held);
    const RowMatrix xb = rmsnorm_rows(x, *l.att_norm);
    if (obs) {
      observe(obs, l.names, l.wq, xb);
      observe(obs, l.names, l.wk, xb);
      observe(obs, l.names, l.wv, xb);
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
    if (obs) observe(obs, l.names, l.wo, att);
    x += project(att, l.wo, l.bo);
    x += mlp(l, rmsnorm_rows(x, *l.ffn_norm), obs);
  }
  held = Held();
  const RowMatrix* final_norm = global("model.norm.weight", globals);
  const RowMatrix* classifier = global(classifier_name(), globals);
  if (!obs) return rmsnorm_rows(x, *final_norm) * classifier->transpose();
  const RowMatrix xf = rmsnorm_rows(x, *final_norm);
  observe(obs, weights_ ? &globals.names : nullptr, classifier, xf);
  return xf * classifier->transpose();
}

}  // namespace lutc

// A seeded synthetic Qwen-MoE-shaped model for the H-Process role test and
// demo: the routed experts hold most of the bytes, as in real MoE models, so
// relaxing only the lazy floor can meet a budget. Element values come from
// synth_matrix (heavy tails, outlier columns), rescaled so activations stay
// O(1) through the layers and the logits are peaked like a trained model's.
#include <cmath>

#include "core/portable_random.h"
#include "lutc/model/hprocess.h"
#include "lutc/model/synth.h"
#include "lutc/model/weights.h"

namespace lutc {
namespace {

// The model's tensors in file order, each matrix from its own seeded stream.
class MoeTensors {
 public:
  explicit MoeTensors(uint64_t seed) : seed_(seed) {}

  // rows x cols of synth_matrix values scaled to root-mean-square `rms`.
  void matrix(const std::string& name, uint32_t rows, uint32_t cols, double rms) {
    SynthSpec sp;
    sp.rows = rows;
    sp.cols = cols;
    sp.seed = portable::mix(seed_, ++stream_);
    sp.row_norm_sigma = 0.3;
    sp.outlier_gain = 6;
    sp.dead_row_frac = 0;
    std::vector<float> w = synth_matrix(sp);
    double ss = 0;
    for (float v : w) ss += double(v) * v;
    const double scale = rms / std::sqrt(std::max(1e-30, ss / double(w.size())));
    for (float& v : w) v = float(v * scale);
    shapes_.push_back({name, {rows, cols}});
    data_.push_back(std::move(w));
  }
  // A norm's weights: n ones.
  void ones(const std::string& name, uint32_t n) {
    shapes_.push_back({name, {n}});
    data_.emplace_back(n, 1.f);
  }
  std::vector<NamedMatrix> named() const {
    std::vector<NamedMatrix> named;
    for (size_t i = 0; i < shapes_.size(); ++i) named.push_back({shapes_[i].first, shapes_[i].second, data_[i].data()});
    return named;
  }

 private:
  uint64_t seed_, stream_ = 0;
  std::vector<std::pair<std::string, std::vector<uint64_t>>> shapes_;
  std::vector<std::vector<float>> data_;
};

// Layer i: attention, the router, the routed experts and the gated shared expert.
void add_layer(MoeTensors& t, const MoeSynthSpec& s, uint32_t i) {
  const uint32_t d = s.dim, kv = s.dim / s.n_heads * s.n_kv_heads;
  const double in_d = 1 / std::sqrt(double(d));
  const std::string p = "model.layers." + std::to_string(i) + ".";
  t.ones(p + "input_layernorm.weight", d);
  t.matrix(p + "self_attn.q_proj.weight", d, d, in_d);
  t.matrix(p + "self_attn.k_proj.weight", kv, d, in_d);
  t.matrix(p + "self_attn.v_proj.weight", kv, d, in_d);
  t.matrix(p + "self_attn.o_proj.weight", d, d, in_d);
  t.ones(p + "post_attention_layernorm.weight", d);
  t.matrix(p + "mlp.gate.weight", s.n_experts, d, 2 * in_d);
  for (uint32_t e = 0; e < s.n_experts; ++e) {
    const std::string x = p + "mlp.experts." + std::to_string(e) + ".";
    t.matrix(x + "gate_proj.weight", s.moe_hidden, d, in_d);
    t.matrix(x + "up_proj.weight", s.moe_hidden, d, in_d);
    t.matrix(x + "down_proj.weight", d, s.moe_hidden, 1 / std::sqrt(double(s.moe_hidden)));
  }
  t.matrix(p + "mlp.shared_expert.gate_proj.weight", s.shared_hidden, d, in_d);
  t.matrix(p + "mlp.shared_expert.up_proj.weight", s.shared_hidden, d, in_d);
  t.matrix(p + "mlp.shared_expert.down_proj.weight", d, s.shared_hidden, 1 / std::sqrt(double(s.shared_hidden)));
  t.matrix(p + "mlp.shared_expert_gate.weight", 1, d, in_d);
}

// The hyper-parameters lutc reads from safetensors __metadata__.
std::map<std::string, std::string> moe_metadata(const MoeSynthSpec& s) {
  return {{"source", "lutc synthetic Qwen-MoE-shaped model, seed " + std::to_string(s.seed)},
          {"dim", std::to_string(s.dim)},
          {"n_layers", std::to_string(s.n_layers)},
          {"n_heads", std::to_string(s.n_heads)},
          {"n_kv_heads", std::to_string(s.n_kv_heads)},
          {"vocab_size", std::to_string(s.vocab)},
          {"seq_len", std::to_string(s.seq_len)},
          {"tied_embeddings", "true"},
          {"n_experts", std::to_string(s.n_experts)},
          {"n_experts_per_tok", std::to_string(s.top_k)},
          {"moe_hidden_dim", std::to_string(s.moe_hidden)},
          {"shared_expert_hidden_dim", std::to_string(s.shared_hidden)}};
}

}  // namespace

void write_moe_synth(const std::string& path, const MoeSynthSpec& s) {
  MoeTensors t(s.seed);
  t.matrix("model.embed_tokens.weight", s.vocab, s.dim, 0.5);
  for (uint32_t i = 0; i < s.n_layers; ++i) add_layer(t, s, i);
  t.ones("model.norm.weight", s.dim);
  write_safetensors(path, t.named(), moe_metadata(s));
}

}  // namespace lutc

#include "lutc/model/model_shapes.h"

#include "lutc/model/error.h"

namespace lutc {

const std::vector<ModelShape>& model_shapes() {
  // name, model_type, hidden, intermediate, layers, heads, kv_heads, vocab, max_pos, rope_theta, rms_eps, tied,
  // experts, experts_per_tok
  static const std::vector<ModelShape> kShapes = {
      {"llama-2-7b", "llama", 4096, 11008, 32, 32, 32, 32000, 4096, 1e4, 1e-5, false},
      {"llama-2-13b", "llama", 5120, 13824, 40, 40, 40, 32000, 4096, 1e4, 1e-5, false},
      {"llama-2-70b", "llama", 8192, 28672, 80, 64, 8, 32000, 4096, 1e4, 1e-5, false},
      {"llama-3-8b", "llama", 4096, 14336, 32, 32, 8, 128256, 8192, 5e5, 1e-5, false},
      {"mistral-7b", "mistral", 4096, 14336, 32, 32, 8, 32000, 32768, 1e6, 1e-5, false},
      {"qwen2-7b", "qwen2", 3584, 18944, 28, 28, 4, 152064, 32768, 1e6, 1e-6, false},
      {"mixtral-8x7b", "mixtral", 4096, 14336, 32, 32, 8, 32000, 32768, 1e6, 1e-5, false, 8, 2},
      {"mixtral-8x22b", "mixtral", 6144, 16384, 56, 48, 8, 32768, 65536, 1e6, 1e-5, false, 8, 2},
  };
  return kShapes;
}

const ModelShape& find_model_shape(const std::string& name) {
  std::string known;
  for (const ModelShape& m : model_shapes()) {
    if (name == m.name) return m;
    known += (known.empty() ? "" : ", ") + std::string(m.name);
  }
  throw Error(ExitCode::kUsage, "unknown model shape '" + name + "' (known: " + known + ")");
}

std::vector<ShapedTensor> model_tensors(const ModelShape& m, uint32_t layers) {
  const uint32_t n = layers ? std::min(layers, m.layers) : m.layers;
  const uint64_t d = m.hidden, h = m.intermediate, kv = uint64_t(m.kv_heads) * (m.hidden / m.heads);
  std::vector<ShapedTensor> t;
  t.push_back({"model.embed_tokens.weight", {m.vocab, d}});
  for (uint32_t i = 0; i < n; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    t.push_back({p + "input_layernorm.weight", {d}});
    t.push_back({p + "self_attn.q_proj.weight", {d, d}});
    t.push_back({p + "self_attn.k_proj.weight", {kv, d}});
    t.push_back({p + "self_attn.v_proj.weight", {kv, d}});
    t.push_back({p + "self_attn.o_proj.weight", {d, d}});
    if (m.model_type == std::string("qwen2")) {  // Qwen2 carries q/k/v biases
      t.push_back({p + "self_attn.q_proj.bias", {d}});
      t.push_back({p + "self_attn.k_proj.bias", {kv}});
      t.push_back({p + "self_attn.v_proj.bias", {kv}});
    }
    t.push_back({p + "post_attention_layernorm.weight", {d}});
    if (m.experts) {
      t.push_back({p + "block_sparse_moe.gate.weight", {m.experts, d}});
      for (uint32_t e = 0; e < m.experts; ++e) {
        const std::string x = p + "block_sparse_moe.experts." + std::to_string(e) + ".";
        t.push_back({x + "w1.weight", {h, d}});
        t.push_back({x + "w2.weight", {d, h}});
        t.push_back({x + "w3.weight", {h, d}});
      }
    } else {
      t.push_back({p + "mlp.gate_proj.weight", {h, d}});
      t.push_back({p + "mlp.up_proj.weight", {h, d}});
      t.push_back({p + "mlp.down_proj.weight", {d, h}});
    }
  }
  t.push_back({"model.norm.weight", {d}});
  if (!m.tied) t.push_back({"lm_head.weight", {m.vocab, d}});
  return t;
}

uint64_t model_weights(const ModelShape& m, uint32_t layers) {
  uint64_t n = 0;
  for (const auto& t : model_tensors(m, layers)) {
    uint64_t e = 1;
    for (uint64_t d : t.shape) e *= d;
    n += e;
  }
  return n;
}

nlohmann::json hf_config(const ModelShape& m, uint32_t layers) {
  const bool llama_like = m.model_type == std::string("llama");
  nlohmann::json c = {
      {"architectures",
       {m.experts                              ? "MixtralForCausalLM"
        : llama_like                           ? "LlamaForCausalLM"
        : m.model_type == std::string("qwen2") ? "Qwen2ForCausalLM"
                                               : "MistralForCausalLM"}},
      {"model_type", m.model_type},
      {"hidden_size", m.hidden},
      {"intermediate_size", m.intermediate},
      {"num_hidden_layers", layers ? std::min(layers, m.layers) : m.layers},
      {"num_attention_heads", m.heads},
      {"num_key_value_heads", m.kv_heads},
      {"vocab_size", m.vocab},
      {"max_position_embeddings", m.max_positions},
      {"rope_theta", m.rope_theta},
      {"rms_norm_eps", m.rms_eps},
      {"tie_word_embeddings", m.tied},
      {"hidden_act", "silu"},
      {"torch_dtype", "bfloat16"},
  };
  if (m.experts) {
    c["num_local_experts"] = m.experts;
    c["num_experts_per_tok"] = m.experts_per_tok;
  }
  return c;
}

}  // namespace lutc

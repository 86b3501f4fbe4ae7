// config.json for a checkpoint that has none (safetensors with hyper-parameters
// in __metadata__, a llama2.c .bin): the Llama keys transformers reads, filled
// from the LlamaConfig the reference forward pass runs on, so the exported
// folder and `lutc lm-eval` describe the same model.
#include <cstdio>
#include <cstdlib>

#include "lutc/model/error.h"
#include "lutc/model/hf_export.h"

namespace lutc {
namespace {

// The shortest decimal that reads back as `f`: 1e-05, not 9.99999974737875e-06.
double shortest(float f) {
  for (int digits = 1; digits <= 9; ++digits) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*g", digits, double(f));
    const double d = std::strtod(buf, nullptr);
    if (float(d) == f) return d;
  }
  return double(f);
}

}  // namespace

const char* torch_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kBF16: return "bfloat16";
    case DType::kF16: return "float16";
    case DType::kF32: return "float32";
    default: break;
  }
  throw Error(ExitCode::kUsage, std::string("no export dtype ") + dtype_name(dtype) + " (bf16, fp16 or fp32)");
}

bool parse_export_dtype(const std::string& name, DType* out) {
  if (name == "bf16")
    *out = DType::kBF16;
  else if (name == "fp16")
    *out = DType::kF16;
  else if (name == "fp32")
    *out = DType::kF32;
  else
    return false;
  return true;
}

nlohmann::ordered_json llama_hf_config(const LlamaConfig& cfg, DType dtype) {
  // Only the dense Llama architecture has a metadata spelling to come from;
  // an MoE or biased model made from metadata has no Llama config to write.
  if (cfg.moe() || cfg.qkv_bias || cfg.o_bias || cfg.qk_norm)
    throw Error(ExitCode::kBadInput,
                "config.json can be synthesized for a dense Llama model only (this one has experts, biases or "
                "q/k norms): export from a Hugging Face folder that carries its own config.json");
  nlohmann::ordered_json j = {{"architectures", {"LlamaForCausalLM"}},
                              {"model_type", "llama"},
                              {"hidden_act", "silu"},
                              {"hidden_size", cfg.dim},
                              {"intermediate_size", cfg.hidden_dim},
                              {"num_hidden_layers", cfg.n_layers},
                              {"num_attention_heads", cfg.n_heads},
                              {"num_key_value_heads", cfg.n_kv_heads},
                              {"vocab_size", cfg.vocab_size},
                              {"max_position_embeddings", cfg.seq_len},
                              {"rms_norm_eps", shortest(cfg.rms_eps)},
                              {"rope_theta", shortest(cfg.rope_theta)},
                              {"rope_scaling", nullptr},
                              {"attention_bias", false},
                              {"mlp_bias", false},
                              {"tie_word_embeddings", cfg.tied_classifier},
                              // llama2.c's sentencepiece ids, as its own Hugging Face export writes them.
                              {"bos_token_id", 1},
                              {"eos_token_id", 2},
                              {"torch_dtype", torch_dtype_name(dtype)}};
  if (cfg.head_dim && cfg.head_dim != cfg.dim / cfg.n_heads) j["head_dim"] = cfg.head_dim;
  return j;
}

}  // namespace lutc

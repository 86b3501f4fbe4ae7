// Model hyper-parameters from a Hugging Face config.json. Two tables hold the
// rules: kFamilies (what each model_type means for the forward pass) and
// kKeys (which config key fills which LlamaConfig field, with its type).
#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "lutc/model/error.h"
#include "lutc/model/llama.h"

namespace lutc {
namespace {

using nlohmann::json;

enum class Mlp : uint8_t { kDense, kQwenMoe, kMixtral, kDeepSeek };

struct Family {
  const char* model_type;
  Mlp mlp;
  bool qkv_bias;            // q/k/v projections always carry a bias
  bool qk_norm;             // per-head q/k RMSNorm
  bool window_clamps;       // sliding_window (when set) bounds seq_len: attention never reaches further
  bool norm_topk_default;   // norm_topk_prob when the key is absent
  const char* experts_key;  // number of routed experts
};

constexpr Family kFamilies[] = {
    {"llama", Mlp::kDense, false, false, false, false, nullptr},
    {"mistral", Mlp::kDense, false, false, true, false, nullptr},
    {"qwen2", Mlp::kDense, true, false, false, false, nullptr},
    {"qwen3", Mlp::kDense, false, true, false, false, nullptr},
    {"mixtral", Mlp::kMixtral, false, false, true, true, "num_local_experts"},
    {"qwen2_moe", Mlp::kQwenMoe, true, false, false, false, "num_experts"},
    {"qwen3_moe", Mlp::kQwenMoe, false, true, false, false, "num_experts"},
    {"deepseek", Mlp::kDeepSeek, false, false, false, false, "n_routed_experts"},
    {"deepseek_v2", Mlp::kDeepSeek, false, false, false, false, "n_routed_experts"},
    {"deepseek_v3", Mlp::kDeepSeek, false, false, false, false, "n_routed_experts"},
};

enum class Type : uint8_t { kSize, kCount, kReal, kBool };  // kSize must be > 0, kCount may be 0
struct Key {
  const char* name;
  Type type;
  bool required;
  uint32_t LlamaConfig::*u32 = nullptr;
  float LlamaConfig::*real = nullptr;
  bool LlamaConfig::*flag = nullptr;
};

// Keys every family shares. Family-specific ones (the expert count, the
// expert MLP size) are read through Family; absent keys keep LlamaConfig's
// defaults, JSON null counts as absent.
const Key kKeys[] = {
    {"hidden_size", Type::kSize, true, &LlamaConfig::dim},
    {"intermediate_size", Type::kSize, false, &LlamaConfig::hidden_dim},
    {"num_hidden_layers", Type::kSize, true, &LlamaConfig::n_layers},
    {"num_attention_heads", Type::kSize, true, &LlamaConfig::n_heads},
    {"num_key_value_heads", Type::kSize, false, &LlamaConfig::n_kv_heads},
    {"head_dim", Type::kSize, false, &LlamaConfig::head_dim},
    {"vocab_size", Type::kSize, true, &LlamaConfig::vocab_size},
    {"max_position_embeddings", Type::kSize, true, &LlamaConfig::seq_len},
    {"rms_norm_eps", Type::kReal, false, nullptr, &LlamaConfig::rms_eps},
    {"rope_theta", Type::kReal, false, nullptr, &LlamaConfig::rope_theta},
    {"tie_word_embeddings", Type::kBool, false, nullptr, nullptr, &LlamaConfig::tied_classifier},
    {"num_experts_per_tok", Type::kSize, false, &LlamaConfig::n_experts_per_tok},
    {"moe_intermediate_size", Type::kSize, false, &LlamaConfig::moe_hidden_dim},
    {"shared_expert_intermediate_size", Type::kCount, false, &LlamaConfig::shared_hidden_dim},
    {"n_shared_experts", Type::kCount, false, &LlamaConfig::n_shared_experts},
    {"first_k_dense_replace", Type::kCount, false, &LlamaConfig::first_k_dense},
    {"norm_topk_prob", Type::kBool, false, nullptr, nullptr, &LlamaConfig::norm_topk_prob},
    {"attention_bias", Type::kBool, false, nullptr, nullptr, &LlamaConfig::o_bias},
};

// Sizes above 2^30 are no real model and keep products far from overflow.
constexpr uint64_t kMaxSize = 1ull << 30;

class ConfigReader {
 public:
  ConfigReader(const json& j, const std::string& path) : j_(j), path_(path) {}

  const json* get(const char* key) const {
    const auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  void read(const Key& k, LlamaConfig& c) const {
    const json* v = get(k.name);
    if (!v) {
      if (k.required) fail("'" + std::string(k.name) + "' is missing");
      return;
    }
    switch (k.type) {
      case Type::kSize:
      case Type::kCount: c.*k.u32 = u32(k.name, *v, k.type == Type::kSize); return;
      case Type::kReal: c.*k.real = positive(k.name, *v); return;
      case Type::kBool:
        if (!v->is_boolean()) bad(k.name, *v, "true or false");
        c.*k.flag = v->get<bool>();
        return;
    }
  }
  uint32_t u32(const std::string& key, const json& v, bool nonzero) const {
    if (!v.is_number_integer() || v.get<int64_t>() < (nonzero ? 1 : 0) || uint64_t(v.get<int64_t>()) > kMaxSize)
      bad(key, v, nonzero ? "a positive integer up to 2^30" : "a non-negative integer up to 2^30");
    return uint32_t(v.get<int64_t>());
  }
  float positive(const std::string& key, const json& v) const {
    if (!v.is_number() || !(v.get<double>() > 0) || !std::isfinite(v.get<double>())) bad(key, v, "a positive number");
    return float(v.get<double>());
  }
  [[noreturn]] void bad(const std::string& key, const json& v, const char* want) const {
    fail("'" + key + "' = " + v.dump() + " is not " + want);
  }
  [[noreturn]] void fail(const std::string& what) const { fail_input(path_, "", -1, "config.json: " + what); }

 private:
  const json& j_;
  std::string path_;
};

std::string family_list() {
  std::string s;
  for (const Family& f : kFamilies) s += (s.empty() ? "" : ", ") + std::string(f.model_type);
  return s;
}

void read_rope_scaling(const ConfigReader& r, LlamaConfig& c) {
  const json* rs = r.get("rope_scaling");
  if (!rs) return;
  if (!rs->is_object()) r.bad("rope_scaling", *rs, "an object or null");
  const ConfigReader s(*rs, "");
  const json* t = s.get("rope_type") ? s.get("rope_type") : s.get("type");
  if (!t || !t->is_string()) r.fail("rope_scaling has no string 'rope_type' (or 'type')");
  const std::string type = t->get<std::string>();
  auto real = [&](const char* key) {
    const json* v = s.get(key);
    if (!v) r.fail("rope_scaling '" + type + "' needs '" + key + "'");
    return r.positive(std::string("rope_scaling.") + key, *v);
  };
  auto& out = c.rope_scaling;
  if (type == "default") return;
  if (type == "linear") {
    out.type = RopeScaling::kLinear;
    out.factor = real("factor");
  } else if (type == "llama3") {
    out.type = RopeScaling::kLlama3;
    out.factor = real("factor");
    out.low_freq_factor = real("low_freq_factor");
    out.high_freq_factor = real("high_freq_factor");
    const json* o = s.get("original_max_position_embeddings");
    if (!o) r.fail("rope_scaling 'llama3' needs 'original_max_position_embeddings'");
    out.original_max_pos = r.u32("rope_scaling.original_max_position_embeddings", *o, true);
    if (!(out.high_freq_factor > out.low_freq_factor))
      r.fail("rope_scaling: high_freq_factor must exceed low_freq_factor");
  } else {
    r.fail("rope_scaling type '" + type + "' is not supported (supported: linear, llama3)");
  }
}

// What parses but the reference forward does not implement; the first
// reason found is kept.
std::string unsupported(const ConfigReader& r, const Family& f, const LlamaConfig& c) {
  if (r.get("kv_lora_rank") || r.get("q_lora_rank"))
    return "multi-head latent attention (MLA: kv_lora_rank / q_lora_rank set) is not implemented; the reference "
           "forward has standard attention";
  if (f.mlp == Mlp::kDeepSeek && c.n_experts > 0)
    return "DeepSeek MoE layers (n_shared_experts shared experts, first_k_dense_replace dense layers) are not "
           "implemented";
  if (const json* a = r.get("hidden_act"); a && *a != "silu") return "hidden_act " + a->dump() + " (only silu)";
  if (const json* w = r.get("use_sliding_window"); w && *w == true) return "use_sliding_window is set";
  if (const json* p = r.get("partial_rotary_factor"); p && *p != 1 && *p != 1.0) return "partial_rotary_factor != 1";
  if (const json* s = r.get("decoder_sparse_step"); s && *s != 1) return "decoder_sparse_step != 1";
  if (const json* m = r.get("mlp_only_layers"); m && !(m->is_array() && m->empty())) return "mlp_only_layers is set";
  return "";
}

}  // namespace

LlamaConfig llama_config_from_hf(const std::string& text, const std::string& path, bool has_lm_head) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    fail_input(path, "", static_cast<long long>(e.byte ? e.byte - 1 : 0),
               std::string("config.json is not valid JSON (") + e.what() + ")");
  } catch (const json::exception& e) {  // a number too large for any type: out_of_range.406
    fail_input(path, "", -1, std::string("config.json is not valid JSON (") + e.what() + ")");
  }
  if (!j.is_object()) fail_input(path, "", 0, "config.json is not a JSON object");
  const ConfigReader r(j, path);
  const json* mt = r.get("model_type");
  if (!mt || !mt->is_string()) r.fail("'model_type' is missing or not a string (supported: " + family_list() + ")");
  const Family* fam = nullptr;
  for (const Family& f : kFamilies)
    if (*mt == f.model_type) fam = &f;
  if (!fam) r.fail("model_type '" + mt->get<std::string>() + "' is not supported (supported: " + family_list() + ")");

  LlamaConfig c;
  c.model_type = fam->model_type;
  c.rope_layout = RopeLayout::kHalf;  // Hugging Face checkpoints rotate (i, i + head/2)
  c.rope_theta = 10000.f;
  c.rms_eps = 1e-6f;
  c.tied_classifier = !has_lm_head;
  c.norm_topk_prob = fam->norm_topk_default;
  for (const Key& k : kKeys) r.read(k, c);
  if (!r.get("num_key_value_heads")) c.n_kv_heads = c.n_heads;
  c.qkv_bias = fam->qkv_bias || c.o_bias;  // attention_bias covers all four projections
  c.qk_norm = fam->qk_norm;
  read_rope_scaling(r, c);

  if (fam->experts_key) {
    if (const json* e = r.get(fam->experts_key)) c.n_experts = r.u32(fam->experts_key, *e, false);
  }
  if (c.moe()) {
    if (fam->mlp == Mlp::kMixtral) {
      c.moe_names = MoeNames::kMixtral;
      c.moe_hidden_dim = c.hidden_dim;  // Mixtral's intermediate_size is the expert size
    }
    if (c.n_experts_per_tok == 0 || c.n_experts_per_tok > c.n_experts)
      r.fail("num_experts_per_tok must be in 1.." + std::to_string(c.n_experts));
    if (c.moe_hidden_dim == 0)
      r.fail(fam->mlp == Mlp::kMixtral ? "'intermediate_size' is missing" : "'moe_intermediate_size' is missing");
  } else if (c.hidden_dim == 0) {
    r.fail("'intermediate_size' is missing");
  }
  if (c.seq_len > kMaxSeqLen)
    r.fail("'max_position_embeddings' = " + std::to_string(c.seq_len) + " is more than " + std::to_string(kMaxSeqLen) +
           " (2^24) positions");
  if (fam->window_clamps) {
    if (const json* w = r.get("sliding_window")) c.seq_len = std::min(c.seq_len, r.u32("sliding_window", *w, true));
  }
  if (!c.head_dim && c.dim % c.n_heads)
    r.fail("hidden_size is not a multiple of num_attention_heads (and no head_dim)");
  if (c.n_heads % c.n_kv_heads) r.fail("num_attention_heads is not a multiple of num_key_value_heads");
  if (c.head_size() % 2) r.fail("head size is odd (RoPE needs pairs)");
  c.unsupported = unsupported(r, *fam, c);
  return c;
}

}  // namespace lutc

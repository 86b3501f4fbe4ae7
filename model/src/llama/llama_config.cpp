// Model hyper-parameters from a weight file's config.json (hf_config.cpp) or
// its metadata (safetensors __metadata__ or the llama2.c header, both exposed
// by WeightFile::metadata()).
#include <cstdlib>

#include "lutc/model/error.h"
#include "lutc/model/llama.h"
#include "lutc/model/weights.h"

namespace lutc {
namespace {

class MetaReader {
 public:
  explicit MetaReader(const WeightFile& f) : f_(f) {}

  uint32_t u32(const std::string& key, bool required = true, uint32_t fallback = 0) const {
    const std::string* s = get(key, required);
    if (!s) return fallback;
    char* end = nullptr;
    const long long v = std::strtoll(s->c_str(), &end, 10);
    if (s->empty() || *end != '\0' || v < 0 || v > (1ll << 30)) bad(key, *s, "a non-negative integer");
    return uint32_t(v);
  }
  float real(const std::string& key, float fallback) const {
    const std::string* s = get(key, false);
    if (!s) return fallback;
    char* end = nullptr;
    const double v = std::strtod(s->c_str(), &end);
    if (s->empty() || *end != '\0' || !(v > 0)) bad(key, *s, "a positive number");
    return float(v);
  }
  // Missing means `fallback`.
  bool flag(const std::string& key, bool fallback) const {
    const std::string* s = get(key, false);
    if (!s) return fallback;
    if (*s == "true" || *s == "1") return true;
    if (*s == "false" || *s == "0") return false;
    bad(key, *s, "true or false");
  }
  const std::string* get(const std::string& key, bool required) const {
    auto it = f_.metadata().find(key);
    if (it != f_.metadata().end()) return &it->second;
    if (required) fail_input(f_.path(), "", -1, "model hyper-parameter '" + key + "' is missing from the metadata");
    return nullptr;
  }
  [[noreturn]] void bad(const std::string& key, const std::string& v, const char* want) const {
    fail_input(f_.path(), "", -1, "metadata '" + key + "' = '" + v + "' is not " + want);
  }

 private:
  const WeightFile& f_;
};

}  // namespace

LlamaConfig llama_config_from(const WeightFile& file) {
  if (!file.config_path().empty())
    return llama_config_from_hf(file.config_text(), file.config_path(), file.find("lm_head.weight") != nullptr);
  const MetaReader m(file);
  LlamaConfig c;
  c.dim = m.u32("dim");
  c.hidden_dim = m.u32("hidden_dim", false, 0);
  c.n_layers = m.u32("n_layers");
  c.n_heads = m.u32("n_heads");
  c.n_kv_heads = m.u32("n_kv_heads", false, c.n_heads);
  c.vocab_size = m.u32("vocab_size");
  c.seq_len = m.u32("seq_len");
  if (c.seq_len > kMaxSeqLen)
    fail_input(file.path(), "", -1,
               "metadata 'seq_len' = " + std::to_string(c.seq_len) + " is more than " + std::to_string(kMaxSeqLen) +
                   " (2^24) positions");
  // llama2.c names it shared_classifier, the converted safetensors tied_embeddings;
  // without either, an lm_head tensor decides.
  const bool has_head = file.find("lm_head.weight") != nullptr;
  c.tied_classifier = m.flag("tied_embeddings", m.flag("shared_classifier", !has_head));
  c.rope_theta = m.real("rope_theta", 10000.f);
  c.rms_eps = m.real("rms_norm_eps", 1e-5f);
  if (const std::string* s = m.get("rope_layout", false)) {
    if (*s == "interleaved")
      c.rope_layout = RopeLayout::kInterleaved;
    else if (*s == "half")
      c.rope_layout = RopeLayout::kHalf;
    else
      m.bad("rope_layout", *s, "interleaved or half");
  }
  c.n_experts = m.u32("n_experts", false, 0);
  if (c.moe()) {
    c.n_experts_per_tok = m.u32("n_experts_per_tok");
    c.moe_hidden_dim = m.u32("moe_hidden_dim");
    c.shared_hidden_dim = m.u32("shared_expert_hidden_dim", false, 0);
    if (c.n_experts_per_tok == 0 || c.n_experts_per_tok > c.n_experts)
      fail_input(file.path(), "", -1, "n_experts_per_tok must be in 1..n_experts");
  } else if (c.hidden_dim == 0) {
    fail_input(file.path(), "", -1, "model hyper-parameter 'hidden_dim' is missing from the metadata");
  }
  auto bad = [&](const std::string& what) { fail_input(file.path(), "", -1, "model hyper-parameters: " + what); };
  if (c.dim == 0 || c.n_layers == 0 || c.n_heads == 0 || c.vocab_size == 0 || c.seq_len == 0) bad("a size is zero");
  if (c.dim % c.n_heads) bad("dim is not a multiple of n_heads");
  if (c.n_kv_heads == 0 || c.n_heads % c.n_kv_heads) bad("n_heads is not a multiple of n_kv_heads");
  if (c.head_size() % 2) bad("head size is odd (RoPE needs pairs)");
  return c;
}

}  // namespace lutc

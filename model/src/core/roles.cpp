#include "lutc/model/roles.h"

#include "lutc/model/error.h"

namespace lutc {
namespace {

struct RoleEntry {
  Role role;
  const char* name;
};
constexpr RoleEntry kRoles[] = {
    {Role::kAttention, "attention"},        {Role::kSharedExpert, "shared_expert"},
    {Role::kRoutedExpert, "routed_expert"}, {Role::kMlp, "mlp"},
    {Role::kEmbedding, "embedding"},        {Role::kOther, "other"},
};

std::string role_list() {
  std::string s;
  for (const RoleEntry& e : kRoles) s += (s.empty() ? "" : ", ") + std::string(e.name);
  return s;
}

// The defaults, first match wins (docs/roles.md keeps the same table).
// Components are matched between dots (or the ends of the name) so that, e.g.,
// "mlp.gate." (a MoE router) never matches "mlp.gate_proj.".
struct DefaultRule {
  const char* pattern;
  Role role;
};
constexpr DefaultRule kDefaults[] = {
    // Routed experts first: their names also contain the dense-MLP projections.
    {R"((^|\.)mlp\.experts\.\d+\.)", Role::kRoutedExpert},               // Qwen-MoE, DeepSeek
    {R"((^|\.)block_sparse_moe\.experts\.\d+\.)", Role::kRoutedExpert},  // Mixtral
    {R"((^|\.)mlp\.shared_expert_gate(\.|$))", Role::kOther},            // Qwen-MoE
    {R"((^|\.)mlp\.shared_experts?\.)", Role::kSharedExpert},            // Qwen-MoE, DeepSeek
    {R"((^|\.)mlp\.gate(\.|$))", Role::kOther},                          // MoE router
    {R"((^|\.)block_sparse_moe\.gate(\.|$))", Role::kOther},             // Mixtral router
    {R"((^|\.)(self_attn|attn|attention)\.[qkvo]_proj(\.|$))", Role::kAttention},
    {R"((^|\.)self_attn\.(q_a_proj|q_b_proj|kv_a_proj_with_mqa|kv_b_proj)(\.|$))", Role::kAttention},  // DeepSeek MLA
    {R"((^|\.)mlp\.(gate|up|down)_proj(\.|$))", Role::kMlp},
    {R"((^|\.)(embed_tokens|tok_embeddings|lm_head)(\.|$))", Role::kEmbedding},
    // llama2.c / Meta checkpoint names.
    {R"((^|\.)(attention\.)?w[qkvo](\.|$))", Role::kAttention},
    {R"((^|\.)(feed_forward\.)?w[123](\.|$))", Role::kMlp},
    // BERT-family encoders (all-MiniLM, BERT, RoBERTa).
    {R"((^|\.)attention\.(self\.(query|key|value)|output\.dense)(\.|$))", Role::kAttention},
    {R"((^|\.)(intermediate|output)\.dense(\.|$))", Role::kMlp},
    {R"((^|\.)embeddings\.(word|position|token_type)_embeddings(\.|$))", Role::kEmbedding},
    // GGUF (llama.cpp) names, blk.N.<component>.weight. The router ffn_gate_inp
    // and the shared-expert gate ffn_gate_inp_shexp match none: other.
    {R"((^|\.)ffn_(gate|up|down|gate_up)_exps(\.|$))", Role::kRoutedExpert},
    {R"((^|\.)ffn_(gate|up|down)_shexp(\.|$))", Role::kSharedExpert},
    {R"((^|\.)attn_(q|k|v|qkv|output|q_a|q_b|kv_a_mqa|kv_b|k_b|v_b)(\.|$))", Role::kAttention},
    {R"((^|\.)ffn_(gate|up|down)(\.|$))", Role::kMlp},
    {R"(^(token_embd|output)(\.|$))", Role::kEmbedding},
};

}  // namespace

const char* role_name(Role r) {
  for (const RoleEntry& e : kRoles)
    if (e.role == r) return e.name;
  return "?";
}

bool parse_role(const std::string& name, Role* out) {
  for (const RoleEntry& e : kRoles) {
    if (name == e.name) {
      *out = e.role;
      return true;
    }
  }
  return false;
}

bool role_uses_lazy_floor(Role r) { return r == Role::kRoutedExpert; }

RoleRules::RoleRules() {
  for (const DefaultRule& d : kDefaults) rules_.push_back({d.pattern, std::regex(d.pattern), d.role});
}

void RoleRules::add_override(const std::string& spec) {
  // Split at the last '=': role names never contain one, regexes may.
  const size_t eq = spec.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
    throw Error(ExitCode::kUsage, "role override '" + spec + "' is not REGEX=ROLE");
  }
  const std::string pattern = spec.substr(0, eq), role_text = spec.substr(eq + 1);
  Role role;
  if (!parse_role(role_text, &role)) {
    throw Error(ExitCode::kUsage,
                "role override '" + spec + "': unknown role '" + role_text + "' (roles: " + role_list() + ")");
  }
  std::regex re;
  try {
    re = std::regex(pattern);
  } catch (const std::regex_error& e) {
    throw Error(ExitCode::kUsage, "role override '" + spec + "': bad regex: " + e.what());
  }
  rules_.insert(rules_.begin(), Rule{pattern, std::move(re), role});
}

Role RoleRules::classify(const std::string& tensor_name) const {
  for (const Rule& r : rules_)
    if (std::regex_search(tensor_name, r.re)) return r.role;
  return Role::kOther;
}

}  // namespace lutc

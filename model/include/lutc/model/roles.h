#pragma once
// Layer roles decide which XFP quality floor applies to a tensor. Roles come
// from tensor names through ordered regex rules (docs/roles.md); users prepend
// their own with --role REGEX=ROLE.
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace lutc {

enum class Role : uint8_t {
  kAttention = 0,
  kSharedExpert = 1,
  kRoutedExpert = 2,
  kMlp = 3,
  kEmbedding = 4,
  kOther = 5,
};

const char* role_name(Role r);
bool parse_role(const std::string& name, Role* out);

// Which floor a role gets: strict (attention, shared experts, embeddings, dense
// MLP, other) or lazy (routed experts).
bool role_uses_lazy_floor(Role r);

class RoleRules {
 public:
  RoleRules();  // the documented defaults (Llama, Qwen/Qwen-MoE, Mixtral, DeepSeek)
  // "REGEX=ROLE"; takes precedence over every rule added before it.
  void add_override(const std::string& spec);
  Role classify(const std::string& tensor_name) const;

 private:
  struct Rule {
    std::string pattern;
    std::regex re;
    Role role;
  };
  std::vector<Rule> rules_;  // first match wins
};

}  // namespace lutc

#include "lutc/model/tensor_fates.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>

#include "lutc/model/error.h"
#include "lutc/model/roles.h"

namespace lutc {
namespace {

// The output projection: Hugging Face `lm_head`, GGUF `output.weight`.
const std::regex& classifier_re() {
  static const std::regex re(R"((^|\.)lm_head(\.|$)|^output\.weight$)");
  return re;
}

bool is_embedding_table(const std::string& name) {
  static const RoleRules rules;
  return rules.classify(name) == Role::kEmbedding && !std::regex_search(name, classifier_re());
}

std::string shape_text(const std::vector<uint64_t>& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return s.empty() ? "scalar" : out;
}

bool fits_u32(uint64_t v) { return v > 0 && v <= std::numeric_limits<uint32_t>::max(); }

// Equal values row by row, so memory stays at two rows whatever the size.
bool same_values(const WeightFile& f, const TensorInfo& a, const TensorInfo& b) {
  if (a.shape != b.shape || !dtype_is_weight(a.dtype) || !dtype_is_weight(b.dtype)) return false;
  const uint64_t rows = a.rows(), cols = a.cols();
  std::vector<float> ra(cols), rb(cols);
  for (uint64_t r = 0; r < rows; ++r) {
    f.read_rows(a, r, 1, ra.data());
    f.read_rows(b, r, 1, rb.data());
    if (std::memcmp(ra.data(), rb.data(), cols * sizeof(float)) != 0) return false;
  }
  return true;
}

TensorPlan row_for(const TensorInfo& t) {
  TensorPlan p;
  p.name = p.source = t.name;
  p.shape = t.shape;
  p.dtype = t.type_name();
  return p;
}

}  // namespace

const char* fate_name(TensorFate f) {
  switch (f) {
    case TensorFate::kQuantize: return "quantized";
    case TensorFate::kKeep: return "kept";
    case TensorFate::kAlias: return "alias";
    case TensorFate::kRefuse: return "refused";
    case TensorFate::kExcluded: return "excluded";
  }
  return "?";
}

std::string expert_slice_name(const std::string& stacked, uint64_t expert) {
  static const std::string kSuffix = ".weight";
  const std::string e = "." + std::to_string(expert);
  if (stacked.size() > kSuffix.size() && stacked.compare(stacked.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0)
    return stacked.substr(0, stacked.size() - kSuffix.size()) + e + kSuffix;
  return stacked + e;
}

namespace {

// A tied classifier is an exact copy of the embedding table: store it once.
// Returns classifier -> embedding for every classifier equal to a table.
std::map<std::string, std::string> tied_classifiers(const WeightFile& file) {
  std::map<std::string, std::string> tied;
  for (const TensorInfo& c : file.tensors()) {
    if (!std::regex_search(c.name, classifier_re())) continue;
    for (const TensorInfo& e : file.tensors())
      if (is_embedding_table(e.name) && same_values(file, e, c)) {
        tied[c.name] = e.name;
        break;
      }
  }
  return tied;
}

// One quantized row per expert of a stacked [experts, rows, cols] tensor,
// each a copy of p (the stacked tensor's row) with its own name and shape.
void push_expert_slices(const TensorPlan& p, const TensorInfo& t, std::vector<TensorPlan>& plan) {
  for (uint64_t e = 0; e < t.shape[0]; ++e) {
    TensorPlan s = p;
    s.name = expert_slice_name(t.name, e);
    s.expert = int64_t(e);
    s.shape = {t.shape[1], t.shape[2]};
    s.routed_expert = true;
    s.reason = "expert " + std::to_string(e) + " of stacked " + shape_text(t.shape);
    plan.push_back(std::move(s));
  }
}

// t's plan rows (one, or one per expert), the first rule that applies
// deciding: the order below is the precedence of the fates.
void plan_tensor(const WeightFile& file, const TensorInfo& t, const FateOptions& o,
                 const std::map<std::string, std::string>& tied, std::vector<TensorPlan>& plan) {
  TensorPlan p = row_for(t);
  const bool is_float = dtype_is_weight(t.dtype);
  if (o.only && !std::regex_search(t.name, *o.only)) {
    p.fate = TensorFate::kExcluded;
    p.reason = "not selected by --tensors";
  } else if (t.dtype == DType::kOpaque && t.shape.size() >= 2) {
    // A block-quantized matrix (GGUF Q4_K, ...) is a weight lutc cannot read:
    // leaving it out would make a quietly incomplete model, so read_rows'
    // refusal, which names the type, stops the run here.
    file.read_rows(t, 0, 0, nullptr);
    p.fate = TensorFate::kRefuse;
  } else if (!is_float) {
    p.fate = TensorFate::kRefuse;
    p.reason = std::string(t.type_name()) +
               " is not a float weight dtype (F32, F16, BF16, F64): an integer, boolean or fp8 tensor is "
               "already quantized or is a buffer, so it is not carried";
  } else if (auto it = tied.find(t.name); it != tied.end()) {
    p.fate = TensorFate::kAlias;
    p.alias_of = it->second;
    p.reason = "tied: equal to " + it->second + ", stored once";
  } else if (o.keep && std::regex_search(t.name, *o.keep)) {
    p.fate = TensorFate::kKeep;
    p.reason = "matches --keep";
  } else if (t.shape.size() < 2) {
    p.fate = TensorFate::kKeep;
    p.reason = t.shape.size() == 1 ? "vector (norm or bias)" : "scalar";
  } else if (t.shape.size() > 3) {
    p.fate = TensorFate::kKeep;
    p.reason = "rank " + std::to_string(t.shape.size()) + " is not a weight matrix";
  } else if (o.keep_embeddings && t.shape.size() == 2 && is_embedding_table(t.name)) {
    p.fate = TensorFate::kKeep;
    p.reason = "embedding table (a lookup; --quantize-embeddings quantizes it)";
  } else if (t.shape.size() == 3) {
    if (!fits_u32(t.shape[1]) || !fits_u32(t.shape[2]) || t.shape[0] == 0) {
      p.fate = TensorFate::kRefuse;
      p.reason = "stacked expert shape " + shape_text(t.shape) + " is empty or too large";
    } else {
      push_expert_slices(p, t, plan);  // the slices stand in for the stacked row
      return;
    }
  } else if (!fits_u32(t.shape[0]) || !fits_u32(t.shape[1])) {
    p.fate = TensorFate::kRefuse;
    p.reason = "matrix shape " + shape_text(t.shape) + " is empty or too large";
  } else {
    p.reason = "weight matrix";
  }
  plan.push_back(std::move(p));
}

// Two plan rows may not share an output name (a stacked tensor's slice
// colliding with a real tensor of that name would be silently shadowed).
void check_unique_names(const WeightFile& file, const std::vector<TensorPlan>& plan) {
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < plan.size(); ++i) {
    if (plan[i].fate == TensorFate::kExcluded || plan[i].fate == TensorFate::kRefuse) continue;
    auto [it, fresh] = seen.emplace(plan[i].name, i);
    if (!fresh)
      fail_input(file.path(), plan[i].source, -1,
                 "its output name '" + plan[i].name + "' collides with tensor '" + plan[it->second].source + "'");
  }
}

}  // namespace

std::vector<TensorPlan> plan_tensors(const WeightFile& file, const FateOptions& o) {
  const std::map<std::string, std::string> tied = tied_classifiers(file);
  std::vector<TensorPlan> plan;
  for (const TensorInfo& t : file.tensors()) plan_tensor(file, t, o, tied, plan);
  check_unique_names(file, plan);
  return plan;
}

std::string fate_summary(const std::vector<TensorPlan>& plan) {
  size_t n[5] = {};
  for (const auto& p : plan) ++n[size_t(p.fate)];
  std::string s;
  for (TensorFate f :
       {TensorFate::kQuantize, TensorFate::kKeep, TensorFate::kAlias, TensorFate::kRefuse, TensorFate::kExcluded})
    if (n[size_t(f)]) s += (s.empty() ? "" : ", ") + std::to_string(n[size_t(f)]) + " " + fate_name(f);
  return s.empty() ? "no tensors" : s;
}

}  // namespace lutc

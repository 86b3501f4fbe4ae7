#pragma once
// What `lutc quantize` does with every tensor of its input, decided once and
// reported by name: quantized, kept in source precision, stored as an alias of
// a tied tensor, refused (with the reason) or left out by --tensors. Nothing is
// dropped silently (docs/inputs.md, "Tensor fates").
//
// 3-D stacked expert tensors ([experts, rows, cols], as Qwen3-MoE, Llama 4 and
// GGUF `*_exps` store them) are split into one matrix per expert, named by
// expert_slice_name(), with the routed-expert role.
#include <cstdint>
#include <regex>
#include <string>
#include <vector>

#include "lutc/model/weights.h"

namespace lutc {

enum class TensorFate : uint8_t { kQuantize, kKeep, kAlias, kRefuse, kExcluded };
const char* fate_name(TensorFate f);  // "quantized", "kept", "alias", "refused", "excluded"

struct TensorPlan {
  std::string name;             // name in the .xfp; for an expert slice, expert_slice_name(source, expert)
  std::string source;           // tensor name in the input
  int64_t expert = -1;          // index into a 3-D stacked expert tensor, or -1
  std::vector<uint64_t> shape;  // of this entry (2-D for a slice)
  std::string dtype;            // source dtype name
  TensorFate fate = TensorFate::kQuantize;
  std::string reason;          // why, in words, for every fate
  std::string alias_of;        // kAlias: the name stored instead
  bool routed_expert = false;  // a slice of a stacked expert tensor
  uint32_t rows() const { return uint32_t(shape[0]); }
  uint32_t cols() const { return uint32_t(shape[1]); }
};

struct FateOptions {
  const std::regex* keep = nullptr;  // --keep: matching tensors stay in source precision
  const std::regex* only = nullptr;  // --tensors: the rest are excluded (reported, not stored)
  // Embedding tables are kept by default in `lutc quantize`: they are a lookup,
  // not a GEMV, and quantizing them buys little. The library default keeps the
  // historical "every float matrix" behaviour for evaluation commands.
  bool keep_embeddings = false;
};

// "a.experts.gate_up_proj" -> "a.experts.gate_up_proj.3"; a trailing ".weight"
// stays last: "blk.0.ffn_up_exps.weight" -> "blk.0.ffn_up_exps.3.weight".
std::string expert_slice_name(const std::string& stacked, uint64_t expert);

// One plan row per input tensor (per expert for stacked tensors), in input order.
std::vector<TensorPlan> plan_tensors(const WeightFile& file, const FateOptions& options);

// Counts per fate, for the one-line summary.
std::string fate_summary(const std::vector<TensorPlan>& plan);

}  // namespace lutc

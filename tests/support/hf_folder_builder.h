#pragma once
// Writes a model as a Hugging Face folder: shards model-0000k-of-0000N.safetensors,
// model.safetensors.index.json and a Llama config.json, with the q/k rows
// permuted from the llama2.c interleaved RoPE layout to rotate-half, as
// transformers' conversion script does.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lutc/model/llama.h"

namespace lutc {
class WeightFile;
}

namespace lutc::testing {

struct HfFolder {
  std::string dir, index, config;
  std::vector<std::string> shards;                // full paths, in order
  std::map<std::string, std::string> weight_map;  // tensor -> shard file name
};

// config.json for a Llama model of `cfg` (interleaved llama2.c weights).
nlohmann::json llama_config_json(const LlamaConfig& cfg);

// `src` must hold interleaved-layout weights (a llama2.c .bin, or the
// safetensors converted from it) with hyper-parameters `cfg`. Tensors keep
// their order and are split over `shards` files in contiguous runs.
HfFolder write_hf_folder(const std::string& dir, const WeightFile& src, const LlamaConfig& cfg, int shards);

// The tensor as the folder stores it: q_proj / k_proj rows in rotate-half
// order, everything else unchanged.
std::vector<float> hf_tensor(const WeightFile& src, const LlamaConfig& cfg, const std::string& name);

void write_text(const std::string& path, const std::string& text);

}  // namespace lutc::testing

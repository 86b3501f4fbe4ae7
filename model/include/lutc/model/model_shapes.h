#pragma once
// Real model architectures by name, one table row each (hyper-parameters from
// the models' published config.json files), and the exact Hugging Face tensor
// list they imply. Used to write seeded synthetic checkpoints of a real size
// (`lutc synth --model`) and to extrapolate benchmarks to models that do not
// fit on the machine (`scripts/bench-full-size --shape`).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lutc {

struct ModelShape {
  const char* name;        // e.g. "llama-2-7b"
  const char* model_type;  // config.json model_type
  uint32_t hidden, intermediate, layers, heads, kv_heads, vocab, max_positions;
  double rope_theta, rms_eps;
  bool tied;
  uint32_t experts = 0, experts_per_tok = 0;  // Mixtral-style routed MoE (per-expert 2-D tensors)
};

const std::vector<ModelShape>& model_shapes();
// Throws Error(kUsage) listing the known names.
const ModelShape& find_model_shape(const std::string& name);

struct ShapedTensor {
  std::string name;
  std::vector<uint64_t> shape;
};
// Tensors of the first `layers` layers (0 = all), in checkpoint order.
std::vector<ShapedTensor> model_tensors(const ModelShape& m, uint32_t layers = 0);
uint64_t model_weights(const ModelShape& m, uint32_t layers = 0);  // elements of model_tensors
// A Hugging Face config.json for the shape (num_hidden_layers = layers when given).
nlohmann::json hf_config(const ModelShape& m, uint32_t layers = 0);

}  // namespace lutc

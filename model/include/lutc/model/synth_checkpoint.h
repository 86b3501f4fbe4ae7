#pragma once
// A seeded synthetic Hugging Face checkpoint with a real model's exact tensor
// names and shapes (model_shapes.h): safetensors shards, the index and
// config.json, written tensor by tensor so memory stays at a few MB whatever
// the model size. The values are Gaussian-like with log-normal row scales and
// rare outliers (docs/synth.md), a pure function of (seed, tensor, element),
// so the folder is the same for any thread count.
#include <cstdint>
#include <functional>
#include <string>

#include "lutc/model/model_shapes.h"
#include "lutc/model/weights.h"

namespace lutc {

struct SynthCheckpointOptions {
  std::string dir;  // created; must not exist (the folder appears whole, by rename)
  const ModelShape* shape = nullptr;
  uint32_t layers = 0;         // first N layers; 0 = all
  uint32_t shards = 1;         // 1: model.safetensors; more: model-0000k-of-0000n + index
  DType dtype = DType::kBF16;  // F32, F16 or BF16
  uint64_t seed = 1;
  unsigned threads = 1;
  std::function<void(uint64_t)> on_elements;  // progress: elements just written
};

// Returns the number of weights written.
uint64_t write_synth_checkpoint(const SynthCheckpointOptions& o);

}  // namespace lutc

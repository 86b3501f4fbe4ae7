#pragma once
// A quantized model out as a Hugging Face model folder (docs/export.md):
// every tensor of the source checkpoint, in its order and shard layout, with
// each matrix the .xfp quantized replaced by its golden decode rounded to
// bf16, fp16 or fp32; config.json, generation_config.json and the tokenizer
// files copied (or, for a source that is not a Hugging Face folder, a Llama
// config.json synthesized from its hyper-parameters); the whole folder written
// beside the target and renamed into place.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lutc/model/llama.h"
#include "lutc/model/weights.h"

namespace lutc {

// A Llama config.json (LlamaForCausalLM) for `cfg`, whose weights are in the
// Hugging Face rotate-half RoPE layout; torch_dtype names `dtype`.
nlohmann::ordered_json llama_hf_config(const LlamaConfig& cfg, DType dtype);

// "bfloat16", "float16", "float32" (torch's names; Error(kUsage) for another dtype).
const char* torch_dtype_name(DType dtype);
// "bf16" | "fp16" | "fp32" -> kBF16 | kF16 | kF32; false for anything else.
bool parse_export_dtype(const std::string& name, DType* out);

// Files beside the weights of a Hugging Face folder that export copies when present.
const std::vector<std::string>& hf_side_files();

struct ExportOptions {
  std::string xfp;               // the quantized layers
  std::string source;            // the checkpoint they were quantized from (anything WeightFile::open reads, but GGUF)
  std::string output;            // the folder to create
  DType dtype = DType::kBF16;    // of every decoded matrix: kBF16, kF16 or kF32
  uint64_t max_shard_bytes = 0;  // 0: shard like the source; else at most this many tensor bytes per shard
  bool force = false;            // replace a non-empty `output`
  // Called before each output tensor with its name, its element count and the
  // element count of the whole output (progress bars).
  std::function<void(const std::string& tensor, uint64_t elements, uint64_t total_elements)> on_tensor;
};

// How exactly the decoded values of one scheme fit each output dtype: values
// that a dtype cannot hold exactly are rounded (RNE) when written in it.
struct SchemeRounding {
  uint64_t values = 0;         // decoded values written
  uint64_t rounded_bf16 = 0;   // of them, not exactly representable in bf16
  uint64_t rounded_fp16 = 0;   // ... in fp16 (a value beyond fp16's range counts too)
  uint64_t overflow_fp16 = 0;  // ... beyond fp16's largest finite value (written as inf)
};

struct ExportReport {
  std::string output;
  std::vector<std::string> shards;      // file names, in order
  std::vector<std::string> side_files;  // copied beside them (config.json, tokenizer files, ...)
  bool config_synthesized = false;      // config.json was made from the source's hyper-parameters
  bool qk_permuted = false;             // q/k rows went from the interleaved to the rotate-half layout
  bool lm_head_dropped = false;         // tied embeddings: the source's lm_head.weight is not written
  uint64_t tensors = 0, decoded = 0, copied = 0;
  std::vector<std::string> copied_matrices;        // 2-D tensors the .xfp does not quantize: copied as in the source
  uint64_t total_bytes = 0;                        // of tensor data (the index's metadata.total_size)
  std::map<std::string, SchemeRounding> rounding;  // by scheme name
};

// Throws Error(kUsage) for bad options or a non-empty output without force;
// Error(kBadInput) naming the file and tensor when the .xfp does not belong to
// the source (a layer or kept tensor it lacks, another shape, a kept tensor
// with other bytes), for a GGUF source, or for a decoded value beyond fp16
// with dtype kF16; Error(kIo) when a file cannot be read or written. On any
// error nothing is left at `output` (an existing folder stays as it was).
ExportReport export_hf_folder(const ExportOptions& options);

}  // namespace lutc

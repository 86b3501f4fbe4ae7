#pragma once
// Speed of the reference forward pass (`lutc lm-eval --bench`,
// docs/lm-eval.md): tokens/s of greedy decoding against what the same
// weights allow.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "lutc/model/llama.h"

namespace lutc {

// In memory: tokens/s of greedy decoding over bench_prompts(prompts), each
// continued for `steps` tokens and repeated for at least 0.5 s, and the same
// count of GEMVs over every weight matrix one token touches, each in the form
// the model multiplies it (plain Eigen for fp32, the projection backend's
// product for a matrix it holds) (the memory-bound floor a forward pass
// cannot beat: a MoE token visits
// n_experts_per_tok experts, the embedding counts only as a tied
// classifier), measured back to back. Keys: decode_tokens_per_s,
// gemv_only_tokens_per_s, ratio_decode_to_gemv_only, weights_per_token,
// gemv_weights_per_s, sink.
// Streaming: a GEMV-only floor means nothing when the weights are converted
// per position; one batched greedy pass over every prompt (one layer fetch
// per position, shared by the prompts) and one prompt alone for at most 4
// steps (a fetch per token: what step() alone costs). Keys: streaming,
// decode_tokens_per_s, batched_prompts, seconds_per_position_batched,
// seconds_per_token_single_prompt.
nlohmann::json bench_forward(const LlamaModel& m, uint32_t prompts, uint32_t steps);

}  // namespace lutc

#pragma once
// The garbage boundary, measured on token ids (docs/lm-eval.md): how far a
// quantized model's next-token distributions drift from the fp32 model's on
// text the fp32 model wrote, and whether its own greedy text degenerates.
#include <cmath>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "lutc/model/llama.h"

namespace lutc {

struct LmBenchConfig {
  uint32_t prompts = 8;  // bench_prompts(prompts, vocab)
  uint32_t steps = 64;   // greedy tokens generated per prompt
};

// What the fp32 model wrote and thought, computed once per bench.
struct LmReference {
  LmBenchConfig cfg;
  std::vector<std::vector<int32_t>> sequences;  // prompt + fp32 greedy continuation
  std::vector<size_t> prompt_len;
  std::vector<RowMatrix> log_probs;   // per sequence: log-softmax at the scored positions (steps x vocab)
  double self_ppl = 0;                // fp32 perplexity of its own continuations
  double self_top_prob = 0;           // mean probability of the greedy token (sharpness)
  double distinct2 = 0, repeat4 = 0;  // degeneration of the fp32 text itself
};

LmReference make_reference(const LlamaModel& fp32, const LmBenchConfig& cfg);

struct LmMetrics {
  uint64_t positions = 0;   // scored next-token predictions
  double kl = 0;            // mean KL(p_fp32 || p_q), nats: the gated direction
  double kl_reverse = 0;    // mean KL(p_q || p_fp32), nats: reported only
  double kl_max = 0;        // worst single position, forward direction
  double top1 = 0;          // fraction of positions where argmax q == argmax fp32
  double ppl = 0;           // perplexity of the quantized model on the fp32 text
  double ppl_fp32 = 0;      // the fp32 model on the same text (its floor)
  double greedy_match = 0;  // mean length of the common prefix of q and fp32 greedy continuations
  uint32_t greedy_match_min = 0;
  double distinct2 = 0;  // unique bigrams / bigrams in q's own greedy continuations
  double repeat4 = 0;    // 4-grams already seen earlier in the same continuation / 4-grams

  // Every score is a number (not NaN, not inf). A weight that overflows float
  // arithmetic (FLT_MAX is finite) makes them NaN, and NaN passes any gate
  // written as a comparison, so every consumer asks this first.
  bool finite() const {
    return std::isfinite(kl) && std::isfinite(kl_reverse) && std::isfinite(kl_max) && std::isfinite(top1) &&
           std::isfinite(ppl);
  }
};

LmMetrics evaluate_lm(const LlamaModel& q, const LmReference& ref);
nlohmann::json to_json(const LmMetrics& m);

// Degeneration on one token sequence (the whole vector is scored).
double distinct_ngrams(const std::vector<int32_t>& tokens, size_t n);
double repeated_ngram_rate(const std::vector<int32_t>& tokens, size_t n);

// The garbage boundary: a run is garbage when kl > kl_max (if kl_max > 0) or
// top1 < top1_min (if top1_min > 0).
struct GarbageRule {
  double kl_max = 0;
  double top1_min = 0;
  // A non-finite KL or agreement (e.g. from a FLT_MAX weight) is garbage:
  // written as a negated test, NaN compares false and would pass.
  bool is_garbage(const LmMetrics& m) const {
    if (!m.finite()) return true;
    return (kl_max > 0 && m.kl > kl_max) || (top1_min > 0 && m.top1 < top1_min);
  }
};

}  // namespace lutc

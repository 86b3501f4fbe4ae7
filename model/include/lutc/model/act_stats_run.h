#pragma once
// `lutc act-stats` as a library (docs/sop.md "ACos and activation
// statistics"): the text the reference forward pass reads (lm-eval's prompts
// continued greedily or by sampling, or token ids from a file), the
// statistics collected on it, the metadata of the file it writes and the
// per-projection summary the command prints.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lutc/model/llama.h"
#include "lutc/model/llama_act_stats.h"

namespace lutc {

// Which text the forward pass reads.
struct ActStatsTextOptions {
  std::string tokens_file;  // non-empty: its sequences (read_token_file) instead of generated text
  uint32_t prompts = 8;     // bench_prompts(prompts, vocab), each continued for `tokens` tokens
  uint32_t tokens = 64;
  bool sample = false;  // continue prompt i by sampling with seed + i instead of greedily
  uint64_t seed = 0;
};

// Progress in token positions (generating and observing cost about the same
// per position); every member may be empty.
struct ActStatsProgress {
  // Before the first sequence: every position the run observes, and whether
  // the run is long enough (over ~2e9 weight-multiplies) to show a bar for.
  std::function<void(uint64_t total_positions, bool long_run)> begin;
  // Before each chunk of sequences (at most 50 chunks): its label and positions.
  std::function<void(const std::string& label, uint64_t positions)> item;
  // After the last sequence.
  std::function<void()> end;
};

struct ActStatsRun {
  ActivationStatsCollector stats;
  std::string text;        // what the forward pass read, in words
  size_t sequences = 0;    // sequences observed
  uint64_t positions = 0;  // the most rows any one projection observed
  // 2-D weights no projection input reached: the embedding of an untied
  // model (a lookup, no input), a MoE expert no token chose.
  std::vector<std::string> unreached;
};

// Generates (or reads) the text and runs forward_all() over every sequence
// with a collector observing. Generated continuations stop at the model's
// seq_len: a prompt plus `tokens` beyond it is Error(kUsage) naming --tokens.
// A streaming model generates the greedy text of all prompts together
// (greedy_generate_batch: the same tokens, one layer fetch per position).
ActStatsRun measure_act_stats(const LlamaModel& m, const ActStatsTextOptions& o, const ActStatsProgress& progress = {});

// The safetensors metadata `lutc act-stats` writes with the statistics.
std::map<std::string, std::string> act_stats_metadata(const ActStatsRun& run, const ActStatsTextOptions& o,
                                                      const std::string& model);

// One projection weight's E[x_k^2] in brief.
struct ActStatsSummary {
  std::string name;
  uint64_t k = 0, positions = 0;
  double mean = 0, max = 0;  // over the K columns
  double max_over_mean = 0;  // 0 when the mean is 0
};
// In the order the forward pass first reached the weights.
std::vector<ActStatsSummary> summarize_act_stats(const ActivationStatsCollector& stats);

}  // namespace lutc

// The act-stats run: which sequences the reference forward pass reads, in
// which order they are generated, and what is recorded about them.
#include "lutc/model/act_stats_run.h"

#include <algorithm>

#include "lutc/model/error.h"

namespace lutc {
namespace {

// The sequences to observe: the tokens file's as they are, or lm-eval's
// prompts, each to be continued by `tokens` generated tokens.
struct ActStatsText {
  std::vector<std::vector<int32_t>> sequences, prompts;
  std::string description;
  size_t count() const { return prompts.empty() ? sequences.size() : prompts.size(); }
  uint64_t positions(size_t i, uint32_t tokens) const {
    return prompts.empty() ? sequences[i].size() : prompts[i].size() + tokens;
  }
};

ActStatsText choose_text(const LlamaConfig& lc, const ActStatsTextOptions& o) {
  ActStatsText t;
  if (!o.tokens_file.empty()) {
    t.sequences = read_token_file(o.tokens_file, lc.vocab_size, lc.seq_len);
    t.description = "tokens file " + o.tokens_file;
    return t;
  }
  t.prompts = bench_prompts(o.prompts, lc.vocab_size);
  const uint64_t prompt = t.prompts.front().size(), longest = prompt + uint64_t(o.tokens);
  if (longest > lc.seq_len)
    throw Error(ExitCode::kUsage, "--tokens " + std::to_string(o.tokens) + ": a prompt of " + std::to_string(prompt) +
                                      " tokens plus " + std::to_string(o.tokens) + " exceeds the model's seq_len " +
                                      std::to_string(lc.seq_len) + " (at most " + std::to_string(lc.seq_len - prompt) +
                                      ")");
  t.description = "lm-eval prompts, " +
                  std::string(o.sample ? "sampled (seed " + std::to_string(o.seed) + ")" : "greedy") +
                  " continuation of " + std::to_string(o.tokens) + " tokens";
  return t;
}

// Long enough to be worth a progress bar: generating a position and observing
// it cost about one multiply per weight each.
bool is_long_run(const LlamaModel& m, const ActStatsText& t, uint64_t total_positions) {
  uint64_t weights_per_token = 0;
  for (const auto& [name, s] : m.shapes())
    if (s.second > 1) weights_per_token += s.first * s.second;
  return double(total_positions) * double(weights_per_token) * (t.prompts.empty() ? 1 : 2) > 2e9;
}

// Sequence i of generated text. Prompt i samples with seed S + i, so runs with
// more prompts extend runs with fewer; `greedy` holds the batched greedy text
// when there is one.
std::vector<int32_t> continuation(const LlamaModel& m, const ActStatsText& t, const ActStatsTextOptions& o,
                                  const std::vector<std::vector<int32_t>>& greedy, size_t i) {
  if (o.sample) return sample_generate(m, t.prompts[i], o.tokens, o.seed + i);
  return greedy.empty() ? greedy_generate(m, t.prompts[i], o.tokens) : greedy[i];
}

void observe_all(const LlamaModel& m, const ActStatsText& t, const ActStatsTextOptions& o,
                 const ActStatsProgress& progress, ActivationStatsCollector& stats) {
  // Streaming: greedy text for every prompt at once (a layer fetch per
  // position instead of per prompt and position); the same tokens as one
  // prompt at a time. Sampling stays per prompt (its random stream is per seed).
  std::vector<std::vector<int32_t>> greedy;
  if (m.streaming() && !t.prompts.empty() && !o.sample) greedy = greedy_generate_batch(m, t.prompts, o.tokens);
  const size_t n = t.count();
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) total += t.positions(i, o.tokens);
  if (progress.begin) progress.begin(total, is_long_run(m, t, total));
  const size_t chunk = (n + 49) / 50;  // at most 50 progress lines in a log
  for (size_t i = 0; i < n; ++i) {
    if (i % chunk == 0 && progress.item) {
      uint64_t work = 0;
      for (size_t j = i; j < std::min(n, i + chunk); ++j) work += t.positions(j, o.tokens);
      progress.item("sequence " + std::to_string(i + 1) + "/" + std::to_string(n), work);
    }
    if (t.prompts.empty())
      m.forward_all(t.sequences[i], &stats);
    else
      m.forward_all(continuation(m, t, o, greedy, i), &stats);
  }
  if (progress.end) progress.end();
}

}  // namespace

ActStatsRun measure_act_stats(const LlamaModel& m, const ActStatsTextOptions& o, const ActStatsProgress& progress) {
  const ActStatsText t = choose_text(m.config(), o);
  ActStatsRun r;
  observe_all(m, t, o, progress, r.stats);
  r.text = t.description;
  r.sequences = t.count();
  for (const auto& l : r.stats.layers()) r.positions = std::max(r.positions, l.positions);
  for (const auto& [name, s] : m.shapes())
    if (s.second > 1 && !r.stats.find(name)) r.unreached.push_back(name);
  return r;
}

std::map<std::string, std::string> act_stats_metadata(const ActStatsRun& run, const ActStatsTextOptions& o,
                                                      const std::string& model) {
  std::map<std::string, std::string> meta = {{"producer", "lutc act-stats"},
                                             {"statistic", "E[x^2] per input column of each projection, F32 [K]"},
                                             {"model", model},
                                             {"text", run.text},
                                             {"sequences", std::to_string(run.sequences)},
                                             {"positions", std::to_string(run.positions)}};
  if (o.tokens_file.empty()) {
    meta["prompts"] = std::to_string(o.prompts);
    meta["tokens"] = std::to_string(o.tokens);
    if (o.sample) meta["seed"] = std::to_string(o.seed);
  }
  return meta;
}

std::vector<ActStatsSummary> summarize_act_stats(const ActivationStatsCollector& stats) {
  std::vector<ActStatsSummary> rows;
  for (const auto& l : stats.layers()) {
    const std::vector<double> e = stats.mean_sq(l);
    ActStatsSummary s{l.name, l.sum_sq.size(), l.positions};
    for (double v : e) {
      s.mean += v;
      s.max = std::max(s.max, v);
    }
    if (!e.empty()) s.mean /= double(e.size());
    s.max_over_mean = s.mean > 0 ? s.max / s.mean : 0.0;
    rows.push_back(s);
  }
  return rows;
}

}  // namespace lutc

// Greedy and sampled generation, and the fixed bench prompts.
#include <cmath>
#include <random>

#include "lutc/model/llama.h"

namespace lutc {

std::vector<int32_t> greedy_generate(const LlamaModel& m, const std::vector<int32_t>& prompt, uint32_t steps) {
  return greedy_generate_batch(m, {prompt}, steps)[0];
}

std::vector<std::vector<int32_t>> greedy_generate_batch(const LlamaModel& m,
                                                        const std::vector<std::vector<int32_t>>& prompts,
                                                        uint32_t steps) {
  // One state per prompt, advanced one position per step_batch call: first
  // its prompt tokens, then argmax tokens (ties to the lower id) until
  // `steps` are generated or the cache reaches seq_len.
  struct State {
    std::vector<int32_t> seq;
    KvCache cache;
    Eigen::VectorXf logits;
    size_t fed = 0;
    uint32_t made = 0;
    bool done = false;
  };
  const uint32_t seq_len = m.config().seq_len;
  std::vector<State> st(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    st[i].seq = prompts[i];
    st[i].cache = m.new_cache();
    st[i].done = prompts[i].empty();
  }
  for (;;) {
    std::vector<int32_t> tokens;
    std::vector<KvCache*> caches;
    std::vector<State*> fed;
    for (State& s : st) {
      if (s.done) continue;
      int32_t next = 0;
      if (s.fed < s.seq.size() && s.made == 0) {
        next = s.seq[s.fed++];
      } else {
        if (s.made >= steps || s.cache.length >= seq_len) {
          s.done = true;
          continue;
        }
        Eigen::Index best = 0;
        s.logits.maxCoeff(&best);  // first maximum: ties go to the lower id
        s.seq.push_back(int32_t(best));
        ++s.made;
        if (s.made >= steps || s.cache.length >= seq_len) {
          s.done = true;
          continue;
        }
        next = int32_t(best);
      }
      tokens.push_back(next);
      caches.push_back(&s.cache);
      fed.push_back(&s);
    }
    if (tokens.empty()) break;
    std::vector<Eigen::VectorXf> logits = m.step_batch(tokens, caches);
    for (size_t b = 0; b < fed.size(); ++b) fed[b]->logits = std::move(logits[b]);
  }
  std::vector<std::vector<int32_t>> out;
  for (State& s : st) out.push_back(std::move(s.seq));
  return out;
}

std::vector<int32_t> sample_generate(const LlamaModel& m, const std::vector<int32_t>& prompt, uint32_t steps,
                                     uint64_t seed) {
  std::vector<int32_t> seq = prompt;
  std::mt19937_64 rng(seed);
  KvCache cache = m.new_cache();
  Eigen::VectorXf logits;
  for (int32_t t : prompt) logits = m.step(t, cache);
  std::vector<double> cdf(size_t(logits.size()));
  for (uint32_t s = 0; s < steps && cache.length < m.config().seq_len; ++s) {
    const float mx = logits.maxCoeff();
    double sum = 0;
    for (Eigen::Index i = 0; i < logits.size(); ++i) cdf[size_t(i)] = (sum += std::exp(double(logits[i] - mx)));
    // 53 random bits -> u in [0, 1); the first token whose cumulative mass exceeds u * sum.
    const double u = double(rng() >> 11) * 0x1.0p-53 * sum;
    size_t pick = 0;
    while (pick + 1 < cdf.size() && !(cdf[pick] > u)) ++pick;
    seq.push_back(int32_t(pick));
    if (s + 1 < steps && cache.length < m.config().seq_len) logits = m.step(int32_t(pick), cache);
  }
  return seq;
}

std::vector<std::vector<int32_t>> bench_prompts(uint32_t count, uint32_t vocab) {
  // Content tokens spread over the vocabulary by a fixed stride, skipping the
  // llama2.c specials (0 unk, 1 BOS, 2 EOS).
  std::vector<std::vector<int32_t>> p;
  const uint32_t span = vocab > 3 ? vocab - 3 : 1;
  for (uint32_t i = 0; i < count; ++i) {
    const int32_t content = int32_t(3 + (uint64_t(i) * 97 + 29) % span);
    p.push_back(vocab > 3 ? std::vector<int32_t>{1, content} : std::vector<int32_t>{0});
  }
  return p;
}

}  // namespace lutc

// Greedy and sampled generation, and the fixed bench prompts.
#include <cmath>
#include <random>

#include "lutc/model/llama.h"

namespace lutc {

std::vector<int32_t> greedy_generate(const LlamaModel& m, const std::vector<int32_t>& prompt, uint32_t steps) {
  std::vector<int32_t> seq = prompt;
  KvCache cache = m.new_cache();
  Eigen::VectorXf logits;
  for (int32_t t : prompt) logits = m.step(t, cache);
  for (uint32_t s = 0; s < steps && cache.length < m.config().seq_len; ++s) {
    Eigen::Index best = 0;
    logits.maxCoeff(&best);  // first maximum: ties go to the lower id
    seq.push_back(int32_t(best));
    if (s + 1 < steps && cache.length < m.config().seq_len) logits = m.step(int32_t(best), cache);
  }
  return seq;
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

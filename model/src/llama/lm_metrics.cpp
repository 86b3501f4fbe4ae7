// Garbage-boundary metrics (docs/lm-eval.md "Metrics").
//
// KL direction: KL(p_fp32 || p_q) = E_{p_fp32}[log p_fp32 - log p_q], the
// expected extra nats the quantized model pays for the reference model's next
// token. It is the direction whose mean ties to perplexity on fp32 text
// (cross-entropy = H(p_fp32) + KL), it punishes the quantized model for
// dropping mass the reference puts on plausible tokens (mass-covering), and it
// is what llama.cpp's --kl-divergence reports, so numbers compare. The reverse
// direction is reported beside it.
#include <algorithm>
#include <cmath>
#include <set>

#include "lutc/model/lm_metrics.h"

namespace lutc {
namespace {

// Row-wise log-softmax of logits (rows x vocab), in double for the sums.
RowMatrix log_softmax_rows(const RowMatrix& logits) {
  RowMatrix out(logits.rows(), logits.cols());
  for (Eigen::Index r = 0; r < logits.rows(); ++r) {
    const float mx = logits.row(r).maxCoeff();
    double s = 0;
    for (Eigen::Index c = 0; c < logits.cols(); ++c) s += std::exp(double(logits(r, c) - mx));
    const float lse = float(std::log(s)) + mx;
    out.row(r) = logits.row(r).array() - lse;
  }
  return out;
}

// Log-probs at the positions that predict the continuation tokens.
RowMatrix scored_log_probs(const LlamaModel& m, const std::vector<int32_t>& seq, size_t prompt_len) {
  const RowMatrix logits = m.forward_all(std::vector<int32_t>(seq.begin(), seq.end() - 1));
  const Eigen::Index first = Eigen::Index(prompt_len) - 1;
  return log_softmax_rows(logits.bottomRows(logits.rows() - first));
}

std::vector<int32_t> continuation(const std::vector<int32_t>& seq, size_t prompt_len) {
  return std::vector<int32_t>(seq.begin() + long(prompt_len), seq.end());
}

}  // namespace

double distinct_ngrams(const std::vector<int32_t>& t, size_t n) {
  if (t.size() < n || n == 0) return 1.0;
  std::set<std::vector<int32_t>> seen;
  for (size_t i = 0; i + n <= t.size(); ++i) seen.emplace(t.begin() + long(i), t.begin() + long(i + n));
  return double(seen.size()) / double(t.size() - n + 1);
}

double repeated_ngram_rate(const std::vector<int32_t>& t, size_t n) {
  if (t.size() < n || n == 0) return 0.0;
  std::set<std::vector<int32_t>> seen;
  size_t repeats = 0;
  for (size_t i = 0; i + n <= t.size(); ++i)
    repeats += !seen.emplace(t.begin() + long(i), t.begin() + long(i + n)).second;
  return double(repeats) / double(t.size() - n + 1);
}

LmReference make_reference(const LlamaModel& fp32, const LmBenchConfig& cfg) {
  LmReference ref;
  ref.cfg = cfg;
  double nll = 0, top = 0;
  uint64_t n = 0;
  const auto prompts = bench_prompts(cfg.prompts, fp32.config().vocab_size);
  // All prompts advance together: a streaming model fetches each layer once
  // per position, not once per prompt and position (same tokens either way).
  std::vector<std::vector<int32_t>> texts = greedy_generate_batch(fp32, prompts, cfg.steps);
  for (size_t i = 0; i < prompts.size(); ++i) {
    const std::vector<int32_t>& prompt = prompts[i];
    std::vector<int32_t> seq = std::move(texts[i]);
    if (seq.size() <= prompt.size()) continue;  // seq_len too short to continue
    RowMatrix lp = scored_log_probs(fp32, seq, prompt.size());
    for (Eigen::Index r = 0; r < lp.rows(); ++r) {
      const double l = lp(r, seq[prompt.size() + size_t(r)]);
      nll -= l;
      top += std::exp(l);
      ++n;
    }
    ref.distinct2 += distinct_ngrams(continuation(seq, prompt.size()), 2);
    ref.repeat4 += repeated_ngram_rate(continuation(seq, prompt.size()), 4);
    ref.prompt_len.push_back(prompt.size());
    ref.sequences.push_back(std::move(seq));
    ref.log_probs.push_back(std::move(lp));
  }
  const double seqs = std::max<double>(1, double(ref.sequences.size()));
  ref.self_ppl = n ? std::exp(nll / double(n)) : 0;
  ref.self_top_prob = n ? top / double(n) : 0;
  ref.distinct2 /= seqs;
  ref.repeat4 /= seqs;
  return ref;
}

LmMetrics evaluate_lm(const LlamaModel& q, const LmReference& ref) {
  LmMetrics m;
  double nll_q = 0, nll_f = 0, agree = 0;
  m.greedy_match_min = ref.cfg.steps;
  // q's own greedy text from each prompt, all prompts together (see
  // make_reference); it stops where the reference text stopped (steps or seq_len).
  std::vector<std::vector<int32_t>> prompts;
  for (size_t s = 0; s < ref.sequences.size(); ++s)
    prompts.emplace_back(ref.sequences[s].begin(), ref.sequences[s].begin() + long(ref.prompt_len[s]));
  const std::vector<std::vector<int32_t>> texts = greedy_generate_batch(q, prompts, ref.cfg.steps);
  for (size_t s = 0; s < ref.sequences.size(); ++s) {
    const auto& seq = ref.sequences[s];
    const size_t pl = ref.prompt_len[s];
    const RowMatrix lq = scored_log_probs(q, seq, pl);
    const RowMatrix& lf = ref.log_probs[s];
    for (Eigen::Index r = 0; r < lq.rows(); ++r) {
      double kl = 0, klr = 0;
      for (Eigen::Index c = 0; c < lq.cols(); ++c) {
        const double a = lf(r, c), b = lq(r, c);
        kl += std::exp(a) * (a - b);
        klr += std::exp(b) * (b - a);
      }
      kl = std::max(kl, 0.0);  // rounding can leave -1e-9 for identical rows
      m.kl += kl;
      m.kl_reverse += std::max(klr, 0.0);
      m.kl_max = std::max(m.kl_max, kl);
      Eigen::Index iq = 0, i_f = 0;
      lq.row(r).maxCoeff(&iq);
      lf.row(r).maxCoeff(&i_f);
      agree += iq == i_f;
      const int32_t next = seq[pl + size_t(r)];
      nll_q -= lq(r, next);
      nll_f -= lf(r, next);
      ++m.positions;
    }
    const std::vector<int32_t>& own = texts[s];
    uint32_t match = 0;
    while (pl + match < std::min(seq.size(), own.size()) && own[pl + match] == seq[pl + match]) ++match;
    m.greedy_match += match;
    m.greedy_match_min = std::min(m.greedy_match_min, match);
    m.distinct2 += distinct_ngrams(continuation(own, pl), 2);
    m.repeat4 += repeated_ngram_rate(continuation(own, pl), 4);
  }
  const double n = std::max<double>(1, double(m.positions));
  const double seqs = std::max<double>(1, double(ref.sequences.size()));
  m.kl /= n;
  m.kl_reverse /= n;
  m.top1 = agree / n;
  m.ppl = std::exp(nll_q / n);
  m.ppl_fp32 = std::exp(nll_f / n);
  m.greedy_match /= seqs;
  m.distinct2 /= seqs;
  m.repeat4 /= seqs;
  return m;
}

nlohmann::json to_json(const LmMetrics& m) {
  return {{"positions", m.positions},
          {"kl_fp32_q", m.kl},
          {"kl_q_fp32", m.kl_reverse},
          {"kl_max", m.kl_max},
          {"top1_agreement", m.top1},
          {"ppl_q_on_fp32_text", m.ppl},
          {"ppl_fp32_on_fp32_text", m.ppl_fp32},
          {"greedy_match_mean", m.greedy_match},
          {"greedy_match_min", m.greedy_match_min},
          {"distinct2", m.distinct2},
          {"repeat4", m.repeat4}};
}

}  // namespace lutc

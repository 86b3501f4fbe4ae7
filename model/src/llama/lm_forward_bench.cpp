// Forward-pass speed for `lutc lm-eval --bench`: decoding against a GEMV-only
// floor in memory, batched against single-prompt decoding when streaming.
#include "lutc/model/lm_forward_bench.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace lutc {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// One weight matrix one decoded token multiplies: fp32, or a projection
// backend's form (timed with its own product, so the floor is the same
// weights' GEMV speed in the form the forward pass uses).
struct TokenMatrix {
  const RowMatrix* fp32 = nullptr;
  const ProjectionWeight* op = nullptr;
  uint64_t cols() const { return op ? op->cols() : uint64_t(fp32->cols()); }
  uint64_t size() const { return op ? op->rows() * op->cols() : uint64_t(fp32->size()); }
};

// Whether a decoded token multiplies tensor `name` (2-D, not the embedding
// lookup; a MoE token visits top_k of n_experts experts).
bool per_token(const LlamaConfig& c, const std::string& name, uint64_t cols) {
  if (cols == 1 || name == "model.embed_tokens.weight") return false;
  const size_t at = name.find(".mlp.experts.");
  return at == std::string::npos || std::stoul(name.substr(at + 13)) < c.n_experts_per_tok;
}

std::vector<TokenMatrix> matrices_per_token(const LlamaModel& m) {
  std::vector<TokenMatrix> mats;
  const LlamaConfig& c = m.config();
  const std::string embed = "model.embed_tokens.weight";
  for (const auto& [name, t] : m.tensors())
    if (per_token(c, name, uint64_t(t.cols()))) mats.push_back({&t, nullptr});
  for (const auto& [name, w] : m.prepared())
    if (per_token(c, name, w->cols())) mats.push_back({nullptr, w.get()});
  if (c.tied_classifier) {
    auto p = m.prepared().find(embed);
    mats.push_back(p != m.prepared().end() ? TokenMatrix{nullptr, p->second.get()}
                                           : TokenMatrix{&m.tensors().at(embed), nullptr});
  }
  return mats;
}

nlohmann::json bench_in_memory(const LlamaModel& m, uint32_t prompts, uint32_t steps) {
  const auto ps = bench_prompts(prompts, m.config().vocab_size);
  uint64_t tokens = 0;
  const auto t0 = Clock::now();
  double elapsed = 0;
  do {
    for (const auto& p : ps) tokens += greedy_generate(m, p, steps).size();
  } while ((elapsed = since(t0)) < 0.5);
  const double tok_s = double(tokens) / elapsed;

  const LlamaConfig& c = m.config();
  const std::vector<TokenMatrix> mats = matrices_per_token(m);
  uint64_t weights = 0;
  for (const TokenMatrix& w : mats) weights += w.size();
  Eigen::VectorXf x = Eigen::VectorXf::Ones(std::max<Eigen::Index>(c.dim, c.hidden_dim));
  std::map<uint64_t, RowMatrix> rows;  // a backend multiplies a 1 x cols matrix: one per width, made once
  for (const TokenMatrix& w : mats)
    if (w.op) rows.emplace(w.cols(), RowMatrix::Ones(1, Eigen::Index(w.cols())));
  float sink = 0;
  uint64_t passes = 0;
  const auto t1 = Clock::now();
  do {
    for (const TokenMatrix& w : mats) {
      if (w.op)
        sink += w.op->multiply(rows.at(w.cols())).sum();
      else
        sink += (*w.fp32 * x.head(w.fp32->cols())).sum();
    }
    ++passes;
  } while ((elapsed = since(t1)) < 0.5);
  const double gemv_tok_s = double(passes) / elapsed;
  return {{"decode_tokens_per_s", tok_s},
          {"gemv_only_tokens_per_s", gemv_tok_s},
          {"ratio_decode_to_gemv_only", tok_s / gemv_tok_s},
          {"weights_per_token", weights},
          {"gemv_weights_per_s", gemv_tok_s * double(weights)},
          {"sink", sink != sink ? 0.0 : 1.0}};
}

nlohmann::json bench_streaming(const LlamaModel& m, uint32_t prompts, uint32_t steps) {
  const auto ps = bench_prompts(prompts, m.config().vocab_size);
  uint64_t positions = 0;
  auto t0 = Clock::now();
  for (const auto& seq : greedy_generate_batch(m, ps, steps)) positions += seq.size() - 1;
  const double batch_s = since(t0);
  const uint32_t single_steps = std::min<uint32_t>(steps, 4);
  t0 = Clock::now();
  const uint64_t single_positions = greedy_generate(m, ps[0], single_steps).size() - 1;
  const double single_s = since(t0);
  return {{"streaming", true},
          {"decode_tokens_per_s", double(positions) / batch_s},
          {"batched_prompts", ps.size()},
          {"seconds_per_position_batched", batch_s / double(positions / ps.size())},
          {"seconds_per_token_single_prompt", single_s / double(single_positions)}};
}

}  // namespace

nlohmann::json bench_forward(const LlamaModel& m, uint32_t prompts, uint32_t steps) {
  return m.streaming() ? bench_streaming(m, prompts, steps) : bench_in_memory(m, prompts, steps);
}

}  // namespace lutc

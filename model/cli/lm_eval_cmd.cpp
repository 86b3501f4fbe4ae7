// lutc lm-eval: the garbage-boundary metrics of a model (fp32, or with an .xfp
// decoded into it) against the fp32 model, on token ids the fp32 model writes.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/model/error.h"
#include "lutc/model/llama.h"
#include "lutc/model/lm_metrics.h"
#include "lutc/model/npy.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"

namespace lutc::cli {
namespace {

const char* kUsage =
    "usage: lutc lm-eval MODEL [--xfp Q.xfp] [--json] [--prompts N] [--steps T] [--bench]\n"
    "                          [--stream auto|on|off] [--max-memory-gb G]\n"
    "       lutc lm-eval MODEL [--xfp Q.xfp] --tokens 1,5,9 --dump-logits L.npy\n\n"
    "Runs the reference Llama forward pass (docs/lm-eval.md) on MODEL (a Hugging Face folder with\n"
    "config.json and safetensors shards, its model.safetensors.index.json, a llama2.c .bin, or\n"
    "safetensors with hyper-parameters in __metadata__). The fp32 model greedily continues N fixed prompts\n"
    "(BOS + one token) for T tokens; the model under test (the .xfp's layers decoded into MODEL,\n"
    "or fp32 itself) is scored on that text: mean KL(p_fp32 || p_q) in nats (and the reverse),\n"
    "top-1 agreement, perplexity on the fp32 text, greedy prefix match, and distinct-2 / repeated\n"
    "4-gram rate of its own greedy text. --bench adds tokens/s of the forward pass against the\n"
    "GEMV-only speed of the same weights measured in the same run.\n\n"
    "Memory: the in-memory mode holds the whole model as fp32 (4 bytes per weight: 27 GB for a 7B).\n"
    "When that exceeds --max-memory-gb (default 60% of physical memory), or with --stream on, the\n"
    "weights are streamed instead: each pass fetches one layer's tensors from the memory-mapped file\n"
    "(or decodes them from the .xfp), applies them to every position and every prompt, and drops them\n"
    "before the next layer, so memory is about one layer's fp32 weights plus the embedding. The\n"
    "numbers are bit-identical in both modes; streaming is slower (every generated position converts\n"
    "the whole model once, shared by all prompts). The mode is reported (JSON \"memory\").\n\n"
    "--dump-logits writes, instead of the metrics, the logits of the model under test for the\n"
    "token ids of --tokens as float32 .npy (tokens x vocab; row t predicts token t+1), so\n"
    "other implementations (an exported Hugging Face folder in transformers) can be compared.";

// "1,5,9" -> {1, 5, 9}, each a token id below `vocab`.
std::vector<int32_t> parse_tokens(const std::string& text, uint32_t vocab) {
  std::vector<int32_t> ids;
  size_t at = 0;
  while (at <= text.size()) {
    const size_t comma = std::min(text.find(',', at), text.size());
    const std::string item = text.substr(at, comma - at);
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end || v < 0 || v >= long(vocab))
      throw Error(ExitCode::kUsage, "--tokens: '" + item + "' is not a token id in 0.." + std::to_string(vocab - 1));
    ids.push_back(int32_t(v));
    at = comma + 1;
  }
  return ids;
}

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Tokens/s of incremental decoding, and the same count of plain Eigen GEMVs
// over every weight matrix one token touches (the memory-bound floor a forward
// pass cannot beat), measured back to back.
nlohmann::json bench_streaming(const LlamaModel& m, uint32_t prompts, uint32_t steps);

nlohmann::json bench(const LlamaModel& m, uint32_t prompts, uint32_t steps) {
  if (m.streaming()) return bench_streaming(m, prompts, steps);
  const auto ps = bench_prompts(prompts, m.config().vocab_size);
  uint64_t tokens = 0;
  const auto t0 = Clock::now();
  double elapsed = 0;
  unsigned reps = 0;
  do {
    for (const auto& p : ps) tokens += greedy_generate(m, p, steps).size();
    ++reps;
  } while ((elapsed = since(t0)) < 0.5);
  const double tok_s = double(tokens) / elapsed;

  std::vector<const RowMatrix*> mats;
  uint64_t weights = 0;
  const LlamaConfig& c = m.config();
  for (const auto& [name, t] : m.tensors()) {
    if (t.cols() == 1 || name == "model.embed_tokens.weight") continue;
    // MoE: a token visits top_k of n_experts experts.
    if (name.find(".mlp.experts.") != std::string::npos) {
      const size_t at = name.find(".mlp.experts.") + 13;
      if (std::stoul(name.substr(at)) >= c.n_experts_per_tok) continue;
    }
    mats.push_back(&t);
    weights += uint64_t(t.size());
  }
  const RowMatrix& emb = m.tensors().at("model.embed_tokens.weight");
  if (c.tied_classifier) {
    mats.push_back(&emb);
    weights += uint64_t(emb.size());
  }
  Eigen::VectorXf x = Eigen::VectorXf::Ones(std::max<Eigen::Index>(c.dim, c.hidden_dim));
  float sink = 0;
  uint64_t passes = 0;
  const auto t1 = Clock::now();
  do {
    for (const RowMatrix* w : mats) sink += (*w * x.head(w->cols())).sum();
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

// Streaming: a GEMV-only floor means nothing when the weights are converted
// per position; time one batched greedy pass over every prompt (one layer
// fetch per position, shared by the prompts) and one single prompt (a fetch
// per token: what step() alone costs).
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

int run_lm_eval(int argc, char** argv) {
  std::string model, xfp, dump_logits, tokens;
  bool json = false, do_bench = false;
  LmBenchConfig cfg;
  MemoryOptions mem;
  po::options_description opts("options");
  opts.add_options()("model", po::value(&model)->required(),
                     "model weights (Hugging Face folder, .safetensors, index.json or llama2.c .bin)")(
      "xfp", po::value(&xfp), "quantized layers to decode into the model (else fp32 is scored against itself)")(
      "json", po::bool_switch(&json), "print JSON instead of a table")(
      "prompts", po::value(&cfg.prompts)->default_value(8), "number of fixed prompts")(
      "steps", po::value(&cfg.steps)->default_value(64), "greedy tokens per prompt")(
      "bench", po::bool_switch(&do_bench), "also time the forward pass (tokens/s vs GEMV-only)")(
      "tokens", po::value(&tokens), "token ids for --dump-logits, comma-separated")(
      "dump-logits", po::value(&dump_logits), "write the logits for --tokens to this .npy and stop");
  mem.add_to(opts);
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv, kUsage, opts, pos, vm)) return 0;
  check_range("prompts", cfg.prompts, 1, 4096);
  check_range("steps", cfg.steps, 1, 1 << 20);
  check_output_file(dump_logits, "--dump-logits", {model, xfp});

  const std::shared_ptr<const WeightFile> file = WeightFile::open(model);
  const LlamaConfig lc = llama_config_from(*file);
  const auto fp32 = std::make_shared<const FileWeights>(file);
  // Opening the .xfp reads its index and checks names and shapes; layers are decoded when fetched.
  const auto quantized = xfp.empty() ? fp32 : std::make_shared<const FileWeights>(file, xfp);
  // The in-memory mode holds one fp32 model at a time: the reference, then the model under test.
  const uint64_t in_memory = fp32->fp32_bytes();
  const bool streaming = choose_residency(mem.choice(), in_memory, mem.budget_bytes()) == Residency::kStream;
  const auto make_model = [&](const std::shared_ptr<const FileWeights>& w) {
    return streaming ? std::make_unique<LlamaModel>(lc, w) : std::make_unique<LlamaModel>(lc, load_all(*w));
  };
  if (!dump_logits.empty() || !tokens.empty()) {
    if (dump_logits.empty() || tokens.empty()) throw Error(ExitCode::kUsage, "--dump-logits and --tokens go together");
    const std::vector<int32_t> ids = parse_tokens(tokens, lc.vocab_size);
    if (ids.size() > lc.seq_len) throw Error(ExitCode::kUsage, "--tokens: more ids than the model's seq_len");
    const RowMatrix logits = make_model(quantized)->forward_all(ids);
    write_npy(dump_logits, {uint64_t(logits.rows()), uint64_t(logits.cols())}, logits.data());
    std::printf("wrote logits %lld x %lld of %s%s%s to %s\n", (long long)logits.rows(), (long long)logits.cols(),
                model.c_str(), xfp.empty() ? "" : " with ", xfp.c_str(), dump_logits.c_str());
    return 0;
  }
  const auto t0 = Clock::now();
  std::unique_ptr<LlamaModel> ref_model = make_model(fp32);
  const LmReference ref = make_reference(*ref_model, cfg);
  const double ref_s = since(t0);
  // NaN compares false against every gate, so a broken reference would
  // score as a pass; it is refused before the model under test is run.
  if (!std::isfinite(ref.self_ppl) || !std::isfinite(ref.self_top_prob))
    throw Error(ExitCode::kBadInput,
                "model '" + model +
                    "': the fp32 forward pass gives non-finite logits (a weight "
                    "that is inf or NaN, or large enough to overflow float32 arithmetic, e.g. FLT_MAX); "
                    "no metric can be computed against it");
  std::unique_ptr<LlamaModel> q_model;
  if (!xfp.empty()) {
    ref_model.reset();
    q_model = make_model(quantized);
  }
  const LlamaModel& q = xfp.empty() ? *ref_model : *q_model;
  const size_t replaced = quantized->replaced();
  const LmMetrics m = evaluate_lm(q, ref);
  const double eval_s = since(t0);

  nlohmann::json j = to_json(m);
  j["memory"] = mem.report(streaming, in_memory);
  j["reference_seconds"] = ref_s;
  j["model"] = model;
  j["xfp"] = xfp;
  j["tensors_replaced"] = replaced;
  j["prompts"] = cfg.prompts;
  j["steps"] = cfg.steps;
  j["fp32_self_ppl"] = ref.self_ppl;
  j["fp32_greedy_token_prob"] = ref.self_top_prob;
  j["fp32_distinct2"] = ref.distinct2;
  j["fp32_repeat4"] = ref.repeat4;
  j["eval_seconds"] = eval_s;
  if (do_bench) j["bench"] = bench(q, cfg.prompts, cfg.steps);
  const auto refuse_non_finite = [&] {
    if (!m.finite())
      throw Error(
          ExitCode::kBadInput,
          "'" + (xfp.empty() ? model : xfp) +
              "': the model under test gives non-finite "
              "logits, so its metrics are NaN or inf (printed above); a decoded weight is inf or NaN or overflows "
              "float32 arithmetic");
  };
  if (json) {
    std::cout << j.dump(2) << "\n";
    refuse_non_finite();
    return 0;
  }
  std::printf("model %s (dim %u, %u layers, %u/%u heads, vocab %u%s)%s%s, %zu tensors decoded from the .xfp\n",
              model.c_str(), lc.dim, lc.n_layers, lc.n_heads, lc.n_kv_heads, lc.vocab_size, lc.moe() ? ", MoE" : "",
              xfp.empty() ? "" : " with ", xfp.c_str(), replaced);
  std::printf("%s\n", mem.line(streaming, in_memory).c_str());
  std::printf("fp32 on its own greedy text: ppl %.4f, mean greedy-token prob %.4f, distinct-2 %.3f, repeat-4 %.3f\n",
              ref.self_ppl, ref.self_top_prob, ref.distinct2, ref.repeat4);
  std::printf("%-34s %s\n", "positions scored", std::to_string(m.positions).c_str());
  std::printf("%-34s %.6f nats (reverse %.6f, worst position %.4f)\n", "KL(p_fp32 || p_q)", m.kl, m.kl_reverse,
              m.kl_max);
  std::printf("%-34s %.4f\n", "top-1 agreement", m.top1);
  std::printf("%-34s %.4f (fp32: %.4f)\n", "perplexity on fp32 text", m.ppl, m.ppl_fp32);
  std::printf("%-34s mean %.2f, min %u of %u\n", "greedy prefix match (tokens)", m.greedy_match, m.greedy_match_min,
              cfg.steps);
  std::printf("%-34s distinct-2 %.3f, repeat-4 %.3f\n", "own greedy text", m.distinct2, m.repeat4);
  if (do_bench && streaming) {
    const auto& b = j["bench"];
    std::printf(
        "bench (streaming): %.3g tokens/s over %u prompts together (%.3f s per position), "
        "%.3f s per token for one prompt alone\n",
        b["decode_tokens_per_s"].get<double>(), cfg.prompts, b["seconds_per_position_batched"].get<double>(),
        b["seconds_per_token_single_prompt"].get<double>());
  } else if (do_bench) {
    const auto& b = j["bench"];
    std::printf("bench: %.0f tokens/s decode, %.0f tokens/s GEMV-only (%.3g weights/s), ratio %.3f\n",
                b["decode_tokens_per_s"].get<double>(), b["gemv_only_tokens_per_s"].get<double>(),
                b["gemv_weights_per_s"].get<double>(), b["ratio_decode_to_gemv_only"].get<double>());
  }
  refuse_non_finite();
  return 0;
}

const RegisterCommand kRegister({"lm-eval", "generation metrics of a model (fp32 or with an .xfp) vs fp32 on token ids",
                                 run_lm_eval});

}  // namespace
}  // namespace lutc::cli

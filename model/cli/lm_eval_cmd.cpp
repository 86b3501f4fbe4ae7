// lutc lm-eval: the garbage-boundary metrics of a model (fp32, or with an .xfp
// decoded into it) against the fp32 model, on token ids the fp32 model writes.
// The run is the library's (lm_eval_run.h); this file holds the flags,
// --dump-logits and the printed report.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/cli/projections.h"
#include "lutc/model/error.h"
#include "lutc/model/llama.h"
#include "lutc/model/lm_eval_run.h"
#include "lutc/model/lm_metrics.h"
#include "lutc/model/npy.h"

namespace lutc::cli {
namespace {

const char* kUsage =
    "usage: lutc lm-eval MODEL [--xfp Q.xfp] [--json] [--prompts N] [--steps T] [--bench]\n"
    "                          [--stream auto|on|off] [--max-memory-gb G]\n"
    "                          [--projections kernels|golden] [--projection-threads N]\n"
    "       lutc lm-eval MODEL [--xfp Q.xfp] --tokens 1,5,9 --dump-logits L.npy\n\n"
    "Runs the reference Llama forward pass (docs/lm-eval.md) on MODEL (a Hugging Face folder with\n"
    "config.json and safetensors shards, its model.safetensors.index.json, a llama2.c .bin, or\n"
    "safetensors with hyper-parameters in __metadata__). The fp32 model greedily continues N fixed prompts\n"
    "(BOS + one token) for T tokens; the model under test (the .xfp's layers decoded into MODEL,\n"
    "or fp32 itself) is scored on that text: mean KL(p_fp32 || p_q) in nats (and the reverse),\n"
    "top-1 agreement, perplexity on the fp32 text, greedy prefix match, and distinct-2 / repeated\n"
    "4-gram rate of its own greedy text. --bench adds tokens/s of the forward pass against the\n"
    "GEMV-only speed of the same weights measured in the same run.\n\n"
    "Projections: by default the model under test holds the .xfp's layers packed and multiplies them\n"
    "with the CPU kernels (f32 path, threads over rows; about 8x less memory than fp32 at 4 bits);\n"
    "--projections golden decodes them to fp32 and multiplies with Eigen, the reference arithmetic.\n"
    "The two differ only in fp32 rounding (docs/lm-eval.md); tensors the .xfp does not replace, and\n"
    "the fp32 reference, always run on Eigen. The choice and the bytes held are reported (JSON\n"
    "\"projections\").\n\n"
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

struct Args {
  std::string model, xfp, dump_logits, tokens;
  bool json = false, bench = false;
  LmBenchConfig cfg;
  MemoryOptions mem;
  ProjectionOptions projections;
};

// The flags into `a`; false after --help.
bool parse_args(int argc, char** argv, Args& a) {
  po::options_description opts("options");
  opts.add_options()("model", po::value(&a.model)->required(),
                     "model weights (Hugging Face folder, .safetensors, index.json or llama2.c .bin)")(
      "xfp", po::value(&a.xfp), "quantized layers to decode into the model (else fp32 is scored against itself)")(
      "json", po::bool_switch(&a.json), "print JSON instead of a table")(
      "prompts", po::value(&a.cfg.prompts)->default_value(8), "number of fixed prompts")(
      "steps", po::value(&a.cfg.steps)->default_value(64), "greedy tokens per prompt")(
      "bench", po::bool_switch(&a.bench), "also time the forward pass (tokens/s vs GEMV-only)")(
      "tokens", po::value(&a.tokens), "token ids for --dump-logits, comma-separated")(
      "dump-logits", po::value(&a.dump_logits), "write the logits for --tokens to this .npy and stop");
  a.mem.add_to(opts);
  a.projections.add_to(opts);
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv, kUsage, opts, pos, vm)) return false;
  check_range("prompts", a.cfg.prompts, 1, 4096);
  check_range("steps", a.cfg.steps, 1, 1 << 20);
  check_output_file(a.dump_logits, "--dump-logits", {a.model, a.xfp});
  return true;
}

int dump_logits(const Args& a, const LmEval& ev) {
  if (a.dump_logits.empty() || a.tokens.empty())
    throw Error(ExitCode::kUsage, "--dump-logits and --tokens go together");
  const std::vector<int32_t> ids = parse_tokens(a.tokens, ev.config().vocab_size);
  if (ids.size() > ev.config().seq_len) throw Error(ExitCode::kUsage, "--tokens: more ids than the model's seq_len");
  const RowMatrix logits = ev.logits(ids);
  write_npy(a.dump_logits, {uint64_t(logits.rows()), uint64_t(logits.cols())}, logits.data());
  std::printf("wrote logits %lld x %lld of %s%s%s to %s\n", (long long)logits.rows(), (long long)logits.cols(),
              a.model.c_str(), a.xfp.empty() ? "" : " with ", a.xfp.c_str(), a.dump_logits.c_str());
  return 0;
}

nlohmann::json result_json(const Args& a, const LmEval& ev, const LmEvalResult& r) {
  nlohmann::json j = to_json(r.metrics);
  j["memory"] = a.mem.report(ev.streaming(), ev.in_memory_bytes());
  j["reference_seconds"] = r.reference_seconds;
  j["model"] = a.model;
  j["xfp"] = a.xfp;
  j["tensors_replaced"] = r.tensors_replaced;
  j["projections"] = ProjectionOptions::report(r.projections);
  j["prompts"] = a.cfg.prompts;
  j["steps"] = a.cfg.steps;
  j["fp32_self_ppl"] = r.reference.self_ppl;
  j["fp32_greedy_token_prob"] = r.reference.self_top_prob;
  j["fp32_distinct2"] = r.reference.distinct2;
  j["fp32_repeat4"] = r.reference.repeat4;
  j["eval_seconds"] = r.eval_seconds;
  if (a.bench) j["bench"] = r.bench;
  return j;
}

void print_bench(const Args& a, bool streaming, const nlohmann::json& b) {
  if (streaming) {
    std::printf(
        "bench (streaming): %.3g tokens/s over %u prompts together (%.3f s per position), "
        "%.3f s per token for one prompt alone\n",
        b["decode_tokens_per_s"].get<double>(), a.cfg.prompts, b["seconds_per_position_batched"].get<double>(),
        b["seconds_per_token_single_prompt"].get<double>());
  } else {
    std::printf("bench: %.0f tokens/s decode, %.0f tokens/s GEMV-only (%.3g weights/s), ratio %.3f\n",
                b["decode_tokens_per_s"].get<double>(), b["gemv_only_tokens_per_s"].get<double>(),
                b["gemv_weights_per_s"].get<double>(), b["ratio_decode_to_gemv_only"].get<double>());
  }
}

void print_result(const Args& a, const LmEval& ev, const LmEvalResult& r) {
  const LlamaConfig& lc = ev.config();
  const LmMetrics& m = r.metrics;
  std::printf("model %s (dim %u, %u layers, %u/%u heads, vocab %u%s)%s%s, %zu tensors replaced by the .xfp\n",
              a.model.c_str(), lc.dim, lc.n_layers, lc.n_heads, lc.n_kv_heads, lc.vocab_size, lc.moe() ? ", MoE" : "",
              a.xfp.empty() ? "" : " with ", a.xfp.c_str(), r.tensors_replaced);
  std::printf("%s\n", a.mem.line(ev.streaming(), ev.in_memory_bytes()).c_str());
  std::printf("%s\n", ProjectionOptions::line(r.projections, ev.streaming()).c_str());
  std::printf("fp32 on its own greedy text: ppl %.4f, mean greedy-token prob %.4f, distinct-2 %.3f, repeat-4 %.3f\n",
              r.reference.self_ppl, r.reference.self_top_prob, r.reference.distinct2, r.reference.repeat4);
  std::printf("%-34s %s\n", "positions scored", std::to_string(m.positions).c_str());
  std::printf("%-34s %.6f nats (reverse %.6f, worst position %.4f)\n", "KL(p_fp32 || p_q)", m.kl, m.kl_reverse,
              m.kl_max);
  std::printf("%-34s %.4f\n", "top-1 agreement", m.top1);
  std::printf("%-34s %.4f (fp32: %.4f)\n", "perplexity on fp32 text", m.ppl, m.ppl_fp32);
  std::printf("%-34s mean %.2f, min %u of %u\n", "greedy prefix match (tokens)", m.greedy_match, m.greedy_match_min,
              a.cfg.steps);
  std::printf("%-34s distinct-2 %.3f, repeat-4 %.3f\n", "own greedy text", m.distinct2, m.repeat4);
  if (a.bench) print_bench(a, ev.streaming(), r.bench);
}

// After the metrics are printed, so the NaN or inf is on record.
void refuse_non_finite(const Args& a, const LmMetrics& m) {
  if (!m.finite())
    throw Error(
        ExitCode::kBadInput,
        "'" + (a.xfp.empty() ? a.model : a.xfp) +
            "': the model under test gives non-finite "
            "logits, so its metrics are NaN or inf (printed above); a decoded weight is inf or NaN or overflows "
            "float32 arithmetic");
}

int run_lm_eval(int argc, char** argv) {
  Args a;
  if (!parse_args(argc, argv, a)) return 0;
  LmEval ev(a.model, a.xfp);
  ev.set_projections(a.projections.make());
  ev.set_residency(choose_residency(a.mem.choice(), ev.in_memory_bytes(), a.mem.budget_bytes()));
  if (!a.dump_logits.empty() || !a.tokens.empty()) return dump_logits(a, ev);
  const LmEvalResult r = ev.evaluate(a.cfg, a.bench);
  if (a.json)
    std::cout << result_json(a, ev, r).dump(2) << "\n";
  else
    print_result(a, ev, r);
  refuse_non_finite(a, r.metrics);
  return 0;
}

const RegisterCommand kRegister({"lm-eval", "generation metrics of a model (fp32 or with an .xfp) vs fp32 on token ids",
                                 run_lm_eval});

}  // namespace
}  // namespace lutc::cli

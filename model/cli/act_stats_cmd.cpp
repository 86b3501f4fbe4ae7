// lutc act-stats: E[x_k^2] of every projection's input from the reference
// forward pass, written as the --act-stats file of `lutc quantize --scheme sop`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/cli/progress.h"
#include "lutc/model/error.h"
#include "lutc/model/llama.h"
#include "lutc/model/llama_act_stats.h"
#include "lutc/model/weights.h"

namespace lutc::cli {
namespace {

const char* kUsage =
    "usage: lutc act-stats MODEL -o S.safetensors [--prompts N] [--tokens T] [--seed S]\n"
    "                            [--tokens-file F] [--json] [--quiet] [--stream auto|on|off]\n"
    "                            [--max-memory-gb G]\n\n"
    "Measures, on the reference fp32 forward pass (docs/lm-eval.md), the second moment E[x_k^2] of\n"
    "every input column k of every linear projection (q/k/v share one input, gate/up another;\n"
    "o_proj, down_proj and the classifier have their own) and writes one F32 vector of K values\n"
    "per weight tensor name. `lutc quantize --scheme sop --act-stats S.safetensors` weights each\n"
    "column's error by it (activation-weighted cosine, ACos; docs/sop.md): an input column that\n"
    "carries large activations costs more output error per unit of weight error, so codebook\n"
    "choice, block scales, outliers and the --budget-bpw knapsack protect it.\n\n"
    "MODEL is a Llama-family checkpoint lm-eval accepts (llama2.c .bin, or safetensors with Hugging\n"
    "Face names and hyper-parameters in __metadata__). The text is lm-eval's: N fixed prompts (BOS +\n"
    "one token), each greedily continued for T tokens; --seed S samples the continuations instead\n"
    "(temperature 1, more varied text); --tokens-file F reads token ids instead (whitespace-\n"
    "separated integers, one sequence per line, each at most the model's seq_len). Every position\n"
    "of every sequence counts once; sums are in double.\n\n"
    "Memory: as lm-eval (--stream, --max-memory-gb): a model whose fp32 weights exceed the budget is\n"
    "streamed one layer at a time, with the same statistics bit for bit; greedy continuations are\n"
    "then generated for all prompts together (one fetch of each layer per position).\n\n"
    "example:\n"
    "  lutc act-stats model.bin -o stats.safetensors --prompts 32 --tokens 128\n"
    "  lutc quantize model.bin --scheme sop --sop-format \"pair(nf4,dd4).ue4m3.b16\" \\\n"
    "      --act-stats stats.safetensors -o model.xfp";

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Args {
  std::string model, out, tokens_file;
  uint32_t prompts = 8, tokens = 64;
  uint64_t seed = 0;
  bool json = false, quiet = false;
};

int run_act_stats(int argc, char** argv) {
  Args a;
  MemoryOptions mem;
  po::options_description opts("options");
  opts.add_options()("model", po::value(&a.model)->required(),
                     "model weights (Hugging Face folder, .safetensors, index.json or llama2.c .bin)")(
      "output,o", po::value(&a.out)->required(), "output .safetensors (written atomically)")(
      "prompts", po::value(&a.prompts)->default_value(8), "number of fixed prompts (lm-eval's)")(
      "tokens", po::value(&a.tokens)->default_value(64), "tokens generated per prompt")(
      "seed", po::value(&a.seed), "sample the continuations with this seed instead of greedy decoding")(
      "tokens-file", po::value(&a.tokens_file), "token ids to run instead: one sequence per line")(
      "json", po::bool_switch(&a.json), "print the summary as JSON instead of a table")(
      "quiet,q", po::bool_switch(&a.quiet), "no progress bar");
  mem.add_to(opts);
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv, kUsage, opts, pos, vm)) return 0;
  const bool have_seed = vm.count("seed") > 0;
  if (!a.tokens_file.empty() && (!vm["prompts"].defaulted() || !vm["tokens"].defaulted() || have_seed))
    throw Error(ExitCode::kUsage, "--tokens-file replaces the generated text: drop --prompts, --tokens and --seed");
  check_range("prompts", a.prompts, 1, 4096);
  check_range("tokens", a.tokens, 1, 1 << 20);
  check_output_file(a.out, "-o", {a.model, a.tokens_file});

  const auto t0 = Clock::now();
  const std::shared_ptr<const WeightFile> file = WeightFile::open(a.model);
  const LlamaConfig lc = llama_config_from(*file);
  const auto weights = std::make_shared<const FileWeights>(file);
  const uint64_t in_memory = weights->fp32_bytes();
  const bool streaming = choose_residency(mem.choice(), in_memory, mem.budget_bytes()) == Residency::kStream;
  const LlamaModel m = streaming ? LlamaModel(lc, weights) : LlamaModel(lc, load_all(*weights));

  std::vector<std::vector<int32_t>> sequences;
  std::vector<std::vector<int32_t>> prompts;
  std::string text;
  if (!a.tokens_file.empty()) {
    sequences = read_token_file(a.tokens_file, lc.vocab_size, lc.seq_len);
    text = "tokens file " + a.tokens_file;
  } else {
    prompts = bench_prompts(a.prompts, lc.vocab_size);
    const uint64_t longest = prompts.front().size() + uint64_t(a.tokens);
    if (longest > lc.seq_len)
      throw Error(ExitCode::kUsage, "--tokens " + std::to_string(a.tokens) + ": a prompt of " +
                                        std::to_string(prompts.front().size()) + " tokens plus " +
                                        std::to_string(a.tokens) + " exceeds the model's seq_len " +
                                        std::to_string(lc.seq_len) + " (at most " +
                                        std::to_string(lc.seq_len - prompts.front().size()) + ")");
    text = "lm-eval prompts, " + std::string(have_seed ? "sampled (seed " + std::to_string(a.seed) + ")" : "greedy") +
           " continuation of " + std::to_string(a.tokens) + " tokens";
  }
  const size_t n_seq = prompts.empty() ? sequences.size() : prompts.size();

  // Work units: token positions (generation and the observed pass cost about
  // the same per position). The bar only shows on runs long enough to watch.
  uint64_t weights_per_token = 0;
  for (const auto& [name, s] : m.shapes())
    if (s.second > 1) weights_per_token += s.first * s.second;
  // Streaming: greedy text for every prompt at once (a layer fetch per
  // position instead of per prompt and position); the same tokens as one
  // prompt at a time. Sampling stays per prompt (its random stream is per seed).
  std::vector<std::vector<int32_t>> greedy;
  if (streaming && !prompts.empty() && !have_seed) greedy = greedy_generate_batch(m, prompts, a.tokens);
  uint64_t total_positions = 0;
  for (size_t i = 0; i < n_seq; ++i)
    total_positions += prompts.empty() ? sequences[i].size() : prompts[i].size() + a.tokens;
  const bool long_run = double(total_positions) * double(weights_per_token) * (prompts.empty() ? 1 : 2) > 2e9;
  ActivationStatsCollector stats;
  {
    Progress progress("act-stats", total_positions, !a.quiet && long_run);
    const size_t chunk = (n_seq + 49) / 50;  // at most 50 progress lines in a log
    for (size_t i = 0; i < n_seq; ++i) {
      if (i % chunk == 0) {
        uint64_t work = 0;
        for (size_t j = i; j < std::min(n_seq, i + chunk); ++j)
          work += prompts.empty() ? sequences[j].size() : prompts[j].size() + a.tokens;
        progress.start_item("sequence " + std::to_string(i + 1) + "/" + std::to_string(n_seq), work);
      }
      if (prompts.empty()) {
        m.forward_all(sequences[i], &stats);
      } else {
        // Prompt i samples with seed S + i, so runs with more prompts extend runs with fewer.
        const std::vector<int32_t> seq = have_seed        ? sample_generate(m, prompts[i], a.tokens, a.seed + i)
                                         : greedy.empty() ? greedy_generate(m, prompts[i], a.tokens)
                                                          : greedy[i];
        m.forward_all(seq, &stats);
      }
    }
  }
  uint64_t positions = 0;
  for (const auto& l : stats.layers()) positions = std::max(positions, l.positions);

  std::map<std::string, std::string> meta = {{"producer", "lutc act-stats"},
                                             {"statistic", "E[x^2] per input column of each projection, F32 [K]"},
                                             {"model", a.model},
                                             {"text", text},
                                             {"sequences", std::to_string(n_seq)},
                                             {"positions", std::to_string(positions)}};
  if (prompts.size()) {
    meta["prompts"] = std::to_string(a.prompts);
    meta["tokens"] = std::to_string(a.tokens);
    if (have_seed) meta["seed"] = std::to_string(a.seed);
  }
  const size_t written = stats.write(a.out, meta);
  const double seconds = since(t0);

  // 2-D weights no projection input reached: the embedding of an untied
  // model (a lookup, no input), a MoE expert no token chose.
  std::vector<std::string> unreached;
  for (const auto& [name, s] : m.shapes())
    if (s.second > 1 && !stats.find(name)) unreached.push_back(name);

  nlohmann::json j = {{"model", a.model},
                      {"output", a.out},
                      {"text", text},
                      {"sequences", n_seq},
                      {"memory", mem.report(streaming, in_memory)},
                      {"positions", positions},
                      {"tensors", written},
                      {"seconds", seconds},
                      {"tied_classifier", lc.tied_classifier},
                      {"without_statistics", unreached}};
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : stats.layers()) {
    const std::vector<double> e = stats.mean_sq(l);
    double mean = 0, mx = 0;
    for (double v : e) {
      mean += v;
      mx = std::max(mx, v);
    }
    if (!e.empty()) mean /= double(e.size());
    layers.push_back({{"name", l.name},
                      {"k", l.sum_sq.size()},
                      {"positions", l.positions},
                      {"mean", mean},
                      {"max", mx},
                      {"max_over_mean", mean > 0 ? mx / mean : 0.0}});
  }
  j["layers"] = layers;
  if (a.json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("act-stats: %s (dim %u, %u layers, vocab %u%s), %zu sequences, %llu positions\n", a.model.c_str(), lc.dim,
              lc.n_layers, lc.vocab_size, lc.moe() ? ", MoE" : "", n_seq, (unsigned long long)positions);
  std::printf("text: %s\n", text.c_str());
  std::printf("%s\n", mem.line(streaming, in_memory).c_str());
  std::printf("%-48s %6s %10s %12s %12s %9s\n", "projection weight", "K", "positions", "mean E[x^2]", "max E[x^2]",
              "max/mean");
  for (const auto& l : layers) {
    const std::string name = l["name"];
    std::printf("%-48s %6llu %10llu %12.4g %12.4g %9.2f%s\n", name.c_str(), (unsigned long long)l["k"].get<uint64_t>(),
                (unsigned long long)l["positions"].get<uint64_t>(), l["mean"].get<double>(), l["max"].get<double>(),
                l["max_over_mean"].get<double>(),
                lc.tied_classifier && name == "model.embed_tokens.weight" ? "  (tied classifier input)" : "");
  }
  for (const auto& name : unreached)
    std::printf("note: %s multiplies no observed input (%s): no statistics, ACos falls back to plain cosine\n",
                name.c_str(), name == "model.embed_tokens.weight" ? "an embedding lookup" : "never reached");
  std::printf("wrote %s: %zu tensors, %llu positions, %.2f s\n", a.out.c_str(), written, (unsigned long long)positions,
              seconds);
  return 0;
}

const RegisterCommand kRegister({"act-stats",
                                 "E[x^2] of every projection's input from a forward pass (SOP --act-stats)",
                                 run_act_stats});

}  // namespace
}  // namespace lutc::cli

// lutc act-stats: E[x_k^2] of every projection's input from the reference
// forward pass, written as the --act-stats file of `lutc quantize --scheme sop`.
// The run is the library's (act_stats_run.h); this file holds the flags, the
// model's residency, progress and the printed summary.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/cli/progress.h"
#include "lutc/model/act_stats_run.h"
#include "lutc/model/error.h"
#include "lutc/model/llama.h"
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
  std::string model, out;
  ActStatsTextOptions text;
  bool json = false, quiet = false;
  MemoryOptions mem;
};

// The flags into `a`; false after --help.
bool parse_args(int argc, char** argv, Args& a) {
  po::options_description opts("options");
  opts.add_options()("model", po::value(&a.model)->required(),
                     "model weights (Hugging Face folder, .safetensors, index.json or llama2.c .bin)")(
      "output,o", po::value(&a.out)->required(), "output .safetensors (written atomically)")(
      "prompts", po::value(&a.text.prompts)->default_value(8), "number of fixed prompts (lm-eval's)")(
      "tokens", po::value(&a.text.tokens)->default_value(64), "tokens generated per prompt")(
      "seed", po::value(&a.text.seed), "sample the continuations with this seed instead of greedy decoding")(
      "tokens-file", po::value(&a.text.tokens_file), "token ids to run instead: one sequence per line")(
      "json", po::bool_switch(&a.json), "print the summary as JSON instead of a table")(
      "quiet,q", po::bool_switch(&a.quiet), "no progress bar");
  a.mem.add_to(opts);
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv, kUsage, opts, pos, vm)) return false;
  a.text.sample = vm.count("seed") > 0;
  if (!a.text.tokens_file.empty() && (!vm["prompts"].defaulted() || !vm["tokens"].defaulted() || a.text.sample))
    throw Error(ExitCode::kUsage, "--tokens-file replaces the generated text: drop --prompts, --tokens and --seed");
  check_range("prompts", a.text.prompts, 1, 4096);
  check_range("tokens", a.text.tokens, 1, 1 << 20);
  check_output_file(a.out, "-o", {a.model, a.text.tokens_file});
  return true;
}

// What the command reports besides the table.
struct Outcome {
  LlamaConfig lc;
  bool streaming = false;
  uint64_t in_memory = 0;
  ActStatsRun run;
  size_t written = 0;
  double seconds = 0;
};

nlohmann::json outcome_json(const Args& a, const Outcome& o, const std::vector<ActStatsSummary>& rows) {
  nlohmann::json j = {{"model", a.model},
                      {"output", a.out},
                      {"text", o.run.text},
                      {"sequences", o.run.sequences},
                      {"memory", a.mem.report(o.streaming, o.in_memory)},
                      {"positions", o.run.positions},
                      {"tensors", o.written},
                      {"seconds", o.seconds},
                      {"tied_classifier", o.lc.tied_classifier},
                      {"without_statistics", o.run.unreached}};
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& s : rows)
    layers.push_back({{"name", s.name},
                      {"k", s.k},
                      {"positions", s.positions},
                      {"mean", s.mean},
                      {"max", s.max},
                      {"max_over_mean", s.max_over_mean}});
  j["layers"] = layers;
  return j;
}

void print_outcome(const Args& a, const Outcome& o, const std::vector<ActStatsSummary>& rows) {
  const LlamaConfig& lc = o.lc;
  std::printf("act-stats: %s (dim %u, %u layers, vocab %u%s), %zu sequences, %llu positions\n", a.model.c_str(), lc.dim,
              lc.n_layers, lc.vocab_size, lc.moe() ? ", MoE" : "", o.run.sequences,
              (unsigned long long)o.run.positions);
  std::printf("text: %s\n", o.run.text.c_str());
  std::printf("%s\n", a.mem.line(o.streaming, o.in_memory).c_str());
  std::printf("%-48s %6s %10s %12s %12s %9s\n", "projection weight", "K", "positions", "mean E[x^2]", "max E[x^2]",
              "max/mean");
  for (const auto& s : rows)
    std::printf("%-48s %6llu %10llu %12.4g %12.4g %9.2f%s\n", s.name.c_str(), (unsigned long long)s.k,
                (unsigned long long)s.positions, s.mean, s.max, s.max_over_mean,
                lc.tied_classifier && s.name == "model.embed_tokens.weight" ? "  (tied classifier input)" : "");
  for (const auto& name : o.run.unreached)
    std::printf("note: %s multiplies no observed input (%s): no statistics, ACos falls back to plain cosine\n",
                name.c_str(), name == "model.embed_tokens.weight" ? "an embedding lookup" : "never reached");
  std::printf("wrote %s: %zu tensors, %llu positions, %.2f s\n", a.out.c_str(), o.written,
              (unsigned long long)o.run.positions, o.seconds);
}

int run_act_stats(int argc, char** argv) {
  Args a;
  if (!parse_args(argc, argv, a)) return 0;
  const auto t0 = Clock::now();
  const std::shared_ptr<const WeightFile> file = WeightFile::open(a.model);
  Outcome o;
  o.lc = llama_config_from(*file);
  const auto weights = std::make_shared<const FileWeights>(file);
  o.in_memory = weights->fp32_bytes();
  o.streaming = choose_residency(a.mem.choice(), o.in_memory, a.mem.budget_bytes()) == Residency::kStream;
  const LlamaModel m = o.streaming ? LlamaModel(o.lc, weights) : LlamaModel(o.lc, load_all(*weights));

  std::optional<Progress> progress;
  o.run = measure_act_stats(
      m, a.text,
      {[&](uint64_t total, bool long_run) { progress.emplace("act-stats", total, !a.quiet && long_run); },
       [&](const std::string& label, uint64_t work) { progress->start_item(label, work); }, [&] { progress.reset(); }});
  o.written = o.run.stats.write(a.out, act_stats_metadata(o.run, a.text, a.model));
  o.seconds = since(t0);
  const std::vector<ActStatsSummary> rows = summarize_act_stats(o.run.stats);
  if (a.json)
    std::cout << outcome_json(a, o, rows).dump(2) << "\n";
  else
    print_outcome(a, o, rows);
  return 0;
}

const RegisterCommand kRegister({"act-stats",
                                 "E[x^2] of every projection's input from a forward pass (SOP --act-stats)",
                                 run_act_stats});

}  // namespace
}  // namespace lutc::cli

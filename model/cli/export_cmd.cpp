// lutc export: an .xfp and the checkpoint it was quantized from become a
// Hugging Face model folder that transformers loads (docs/export.md). The
// work is model/'s export_hf_folder; this file is options, progress and the
// report.
#include <cctype>
#include <cstdio>
#include <iostream>
#include <memory>

#include "lutc/cli/cli_util.h"
#include "lutc/cli/command.h"
#include "lutc/cli/progress.h"
#include "lutc/model/error.h"
#include "lutc/model/hf_export.h"

namespace lutc::cli {
namespace {

const char* kUsage =
    "usage: lutc export Q.xfp --source MODEL -o OUT_DIR [--dtype bf16|fp16|fp32]\n"
    "                   [--max-shard-size SIZE] [--force] [--json] [--quiet]\n\n"
    "Writes OUT_DIR as a Hugging Face model folder (docs/export.md) that\n"
    "transformers.AutoModelForCausalLM.from_pretrained loads: every tensor of MODEL (the\n"
    "checkpoint Q.xfp was quantized from: a Hugging Face folder, its index.json, a .safetensors\n"
    "with hyper-parameters in __metadata__, or a llama2.c .bin) in its order, with each matrix\n"
    "Q.xfp quantized replaced by its golden decode (docs/numerics.md) rounded to --dtype (RNE);\n"
    "every other tensor (norms, biases, embeddings kept in 16 bits) byte for byte as in MODEL.\n"
    "Shards: those of MODEL (same files, same assignment); one model.safetensors for a single\n"
    "file; --max-shard-size (bytes, or 500MB, 5GB, 2GiB) splits into model-0000k-of-0000N;\n"
    "always with model.safetensors.index.json. config.json, generation_config.json and the\n"
    "tokenizer files are copied from MODEL's folder; for a .safetensors without config.json or\n"
    "a llama2.c .bin a Llama config.json is written from the hyper-parameters the forward pass\n"
    "uses, and q_proj/k_proj rows are permuted from llama2.c's interleaved RoPE pairs to the\n"
    "rotate-half layout transformers expects (the export prints that it did). A tied lm_head\n"
    "is not written. OUT_DIR appears whole or not at all; an existing non-empty OUT_DIR is\n"
    "refused unless --force. Memory: one tensor at a time.\n\n"
    "Is the rounding to --dtype exact? fp32 always (the golden decode is fp32). For bf16 / fp16\n"
    "it depends on the scheme; the export counts, per scheme, the decoded values each dtype\n"
    "cannot hold exactly and prints them:\n"
    "  xfp.v2, xfp.v2a  fp16 codebook entries: exact in fp16; bf16 keeps 8 of their 11\n"
    "                   significand bits, so most values round\n"
    "  fp8.e4m3         4-bit significand times a power of two: exact in bf16; fp16 too unless\n"
    "                   the layer scale leaves fp16's range\n"
    "  sop              codebook entry times the block scale: exact in bf16 when their\n"
    "                   significands fit 8 bits (E2M1 x UE4M3/UE4M4), in fp16 when they fit 11\n"
    "                   (E2M1, E2M3); NF4/SH4/BOF4/DD4 entries round in both\n"
    "  int4.g128        fp16 scale times an integer up to 15: rounds in both\n"
    "  nf4.b64          fp16 level times fp16 absmax: rounds in both\n"
    "  any outlier (fp16 residual added in fp32) may make a value need more bits.\n"
    "With --dtype fp16 a decoded value beyond 65504 stops the export (exit 3).\n\n"
    "exit codes: 2 usage (also a non-empty OUT_DIR without --force), 3 bad input (an .xfp from\n"
    "another model: a layer, shape or kept tensor the source does not have), 4 I/O.";

// "5GB" -> 5e9, "2GiB" -> 2^31, "123" -> 123 bytes.
uint64_t parse_size(const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  for (char& c : unit) c = char(std::toupper(static_cast<unsigned char>(c)));
  const std::pair<const char*, double> units[] = {{"", 1},     {"B", 1},       {"KB", 1e3},       {"MB", 1e6},
                                                  {"GB", 1e9}, {"KIB", 1024.}, {"MIB", 1048576.}, {"GIB", 1073741824.}};
  for (const auto& [name, scale] : units)
    if (used && unit == name && v * scale >= 1 && v * scale < 1e18) return uint64_t(v * scale);
  throw Error(ExitCode::kUsage, "--max-shard-size '" + text + "' is not a size (bytes, or e.g. 500MB, 5GB, 2GiB)");
}

nlohmann::json to_json(const ExportReport& r, DType dtype) {
  nlohmann::json rounding = nlohmann::json::object();
  for (const auto& [scheme, s] : r.rounding)
    rounding[scheme] = {{"values", s.values},
                        {"rounded_bf16", s.rounded_bf16},
                        {"rounded_fp16", s.rounded_fp16},
                        {"overflow_fp16", s.overflow_fp16},
                        {"rounded_fp32", 0}};
  return {{"output", r.output},
          {"dtype", torch_dtype_name(dtype)},
          {"shards", r.shards},
          {"side_files", r.side_files},
          {"config_synthesized", r.config_synthesized},
          {"qk_permuted", r.qk_permuted},
          {"lm_head_dropped", r.lm_head_dropped},
          {"tensors", r.tensors},
          {"decoded", r.decoded},
          {"copied", r.copied},
          {"copied_matrices", r.copied_matrices},
          {"total_size", r.total_bytes},
          {"rounding", rounding}};
}

void print_report(const ExportReport& r, DType dtype) {
  std::printf(
      "wrote %s: %llu tensors (%llu golden-decoded as %s, %llu copied from the source), %zu shard%s, "
      "%.3f MB\n",
      r.output.c_str(), (unsigned long long)r.tensors, (unsigned long long)r.decoded, torch_dtype_name(dtype),
      (unsigned long long)r.copied, r.shards.size(), r.shards.size() == 1 ? "" : "s", double(r.total_bytes) / 1e6);
  if (r.qk_permuted)
    std::printf(
        "q/k: permuted q_proj/k_proj rows from llama2.c's interleaved RoPE layout to Hugging Face rotate-half\n");
  if (r.config_synthesized)
    std::printf("config.json: synthesized (LlamaForCausalLM) from the source's hyper-parameters\n");
  if (r.lm_head_dropped) std::printf("lm_head.weight: not written (tied to model.embed_tokens.weight)\n");
  std::string side;
  for (const std::string& f : r.side_files) side += (side.empty() ? "" : ", ") + f;
  if (!side.empty()) std::printf("side files: %s\n", side.c_str());
  if (!r.copied_matrices.empty())
    std::printf("note: %zu matrices are not in the .xfp and were copied unquantized (first: %s)\n",
                r.copied_matrices.size(), r.copied_matrices.front().c_str());
  std::printf("%-10s %12s %22s %22s %8s\n", "scheme", "values", "rounded to bf16", "rounded to fp16", "fp32");
  for (const auto& [scheme, stats] : r.rounding) {
    const auto& s = stats;  // a lambda may not capture a structured binding before C++20
    auto pct = [&](uint64_t n) { return s.values ? 100.0 * double(n) / double(s.values) : 0.0; };
    char b[64], h[64];
    std::snprintf(b, sizeof b, "%llu (%.2f%%)", (unsigned long long)s.rounded_bf16, pct(s.rounded_bf16));
    std::snprintf(h, sizeof h, "%llu (%.2f%%)%s", (unsigned long long)s.rounded_fp16, pct(s.rounded_fp16),
                  s.overflow_fp16 ? " overflow" : "");
    std::printf("%-10s %12llu %22s %22s %8s\n", scheme.c_str(), (unsigned long long)s.values, b, h, "exact");
  }
}

int run_export(int argc, char** argv) {
  ExportOptions o;
  std::string dtype = "bf16", shard_size;
  bool json = false, quiet = false;
  po::options_description opts("options");
  opts.add_options()("xfp", po::value(&o.xfp)->required(), "quantized layers (.xfp)")(
      "source,s", po::value(&o.source)->required(), "the checkpoint the .xfp was quantized from")(
      "output,o", po::value(&o.output)->required(), "Hugging Face model folder to create")(
      "dtype", po::value(&dtype)->default_value("bf16"), "bf16 | fp16 | fp32: dtype of the decoded matrices")(
      "max-shard-size", po::value(&shard_size), "at most this many tensor bytes per shard (e.g. 5GB)")(
      "force", po::bool_switch(&o.force), "replace an existing non-empty output folder")(
      "json", po::bool_switch(&json), "print the report as JSON")("quiet,q", po::bool_switch(&quiet),
                                                                  "no progress bar");
  po::positional_options_description pos;
  pos.add("xfp", 1);
  po::variables_map vm;
  if (!parse_command_line(argc, argv, kUsage, opts, pos, vm)) return 0;
  if (!parse_export_dtype(dtype, &o.dtype))
    throw Error(ExitCode::kUsage, "--dtype '" + dtype + "': bf16, fp16 or fp32");
  if (!shard_size.empty()) o.max_shard_bytes = parse_size(shard_size);
  check_output_folder(o.output, "-o", {o.xfp, o.source});

  // A bar only where it helps: whole models, not test-sized ones.
  constexpr uint64_t kLongRun = 1ull << 24;  // elements
  std::unique_ptr<Progress> progress;
  o.on_tensor = [&](const std::string& name, uint64_t elements, uint64_t total) {
    if (!progress) progress = std::make_unique<Progress>("export", total, !quiet && total >= kLongRun);
    progress->start_item(name, elements);
  };
  const ExportReport r = export_hf_folder(o);
  if (progress) progress->finish();
  if (json)
    std::cout << to_json(r, o.dtype).dump(2) << "\n";
  else
    print_report(r, o.dtype);
  return 0;
}

const RegisterCommand kRegister({"export", "write a Hugging Face model folder with the .xfp's golden decode",
                                 run_export});

}  // namespace
}  // namespace lutc::cli

#pragma once
// Small pieces every subcommand shares: option parsing with a uniform --help,
// range checks that name the flag, and atomic JSON output.
#include <boost/program_options.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"
#include "lutc/model/llama.h"
#include "lutc/model/suggest.h"

namespace lutc::cli {

namespace po = boost::program_options;

// Parses argv against `opts` (+ positionals); returns false when --help was
// printed. Unknown flags and bad values throw po::error (exit code 2 in main).
bool parse_command_line(int argc, char** argv, const std::string& usage, po::options_description& opts,
                        const po::positional_options_description& pos, po::variables_map& vm);

// While a sink is set, parse_command_line hands it the command's table (the
// one --help prints) and returns false without parsing, so shell completion
// and the man page are generated from the very tables --help shows
// (option_tables.h). Choice values are read from a description that starts
// with "a|b|c: ...", the convention --help text uses for them.
using OptionTableSink = void (*)(const std::string& usage, const po::options_description& opts,
                                 const po::positional_options_description& pos, void* context);
void set_option_table_sink(OptionTableSink sink, void* context);

// check_range (the flag range check) lives in lutc/model/error.h, so library
// code that validates the same options (quantize_pipeline.h) gives the same message.
using lutc::check_range;
// "did you mean" for every mistyped name (schemes, codebooks, commands, files)
// also lives in the model library (lutc/model/suggest.h) for the same reason.
using lutc::did_you_mean;

// The output checks every command runs on each output path before any work
// (one rule, one place), so a long run never ends in "cannot write". An empty
// path (an optional output not asked for) passes. `flag` names the option in
// messages ("-o", "--report").
// A file output: not a folder (Error kUsage); its name fits the file system
// and its folder exists and takes new files (Error kIo, naming the path and
// the reason: permission denied, read-only file system, ...); it is none of
// `inputs` nor a file inside an input folder (Error kUsage).
void check_output_file(const std::string& path, const std::string& flag, const std::vector<std::string>& inputs);
// A folder output, created with its parents if absent and filled or replaced
// as a whole: not a file (kUsage); its names fit and its nearest existing
// folder takes new entries (kIo); no input lies inside it (kUsage), since
// replacing the folder would delete that input.
void check_output_folder(const std::string& path, const std::string& flag, const std::vector<std::string>& inputs);

void write_json_file(const std::string& path, const nlohmann::json& j);

// --json on a command that prints a human summary (quantize, compile, sim,
// rtl, run, gemv, decode): stdout then carries one JSON document and nothing
// else. While a JsonStdout that is on lives, whatever writes to stdout (the
// command's table, progress lines, libraries, SystemC's banner) goes to
// stderr instead; emit() writes the document to the real stdout. The
// destructor puts stdout back, so an error leaves stdout empty.
class JsonStdout {
 public:
  static constexpr const char* kHelp =
      "print a JSON summary on stdout (the human output goes to stderr; docs/reports.md)";
  explicit JsonStdout(bool on);
  ~JsonStdout();
  JsonStdout(const JsonStdout&) = delete;
  JsonStdout& operator=(const JsonStdout&) = delete;
  bool on() const { return saved_fd_ >= 0; }
  // The document, as one JSON value and a newline; nothing when off.
  void emit(const nlohmann::json& j);

 private:
  int saved_fd_ = -1;
};
// The same written and finished but not yet renamed onto `path`: commit() it
// together with the command's other outputs (AtomicFile::finish).
std::unique_ptr<AtomicFile> prepare_json_file(const std::string& path, const nlohmann::json& j);
// j.dump(2) and a newline; bytes that are not UTF-8 (a tensor name or GGUF
// string from a file) are written as U+FFFD instead of failing the command.
std::string json_text(const nlohmann::json& j);
// Atomically to `path`, or to stdout when `path` is empty.
void write_text_output(const std::string& path, const std::string& text);

// --stream auto|on|off and --max-memory-gb G of the commands that run the
// reference forward pass (lm-eval, act-stats, hprocess).
struct MemoryOptions {
  std::string stream = "auto";
  double max_memory_gb = 0;  // 0: default_memory_budget()
  void add_to(po::options_description& opts);
  StreamChoice choice() const;  // Error(kUsage) for another --stream value
  uint64_t budget_bytes() const;
  // {"streaming", "memory_budget_bytes", "in_memory_bytes"} for JSON reports.
  nlohmann::json report(bool streaming, uint64_t in_memory_bytes) const;
  // One line for tables: "weights: streamed one layer at a time (in memory would need 26.9 GB > budget 14.4 GB)".
  std::string line(bool streaming, uint64_t in_memory_bytes) const;
};

}  // namespace lutc::cli

#include "lutc/cli/cli_util.h"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <typeinfo>

#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"

namespace lutc::cli {

namespace {

// Boost converts "-1" to an unsigned option as 2^32 - 1; say what was typed instead.
void refuse_negative_unsigned(const po::parsed_options& parsed, const po::variables_map& vm) {
  for (const auto& o : parsed.options) {
    if (o.string_key.empty() || !vm.count(o.string_key)) continue;
    const std::type_info& t = vm[o.string_key].value().type();
    const bool is_unsigned = t == typeid(unsigned) || t == typeid(unsigned long) || t == typeid(unsigned long long) ||
                             t == typeid(unsigned short) || t == typeid(unsigned char);
    if (!is_unsigned) continue;
    for (const std::string& v : o.value)
      if (!v.empty() && v[0] == '-')
        throw Error(ExitCode::kUsage, "--" + o.string_key + " " + v + ": expected a number >= 0");
  }
}

OptionTableSink g_table_sink = nullptr;
void* g_table_context = nullptr;

}  // namespace

void set_option_table_sink(OptionTableSink sink, void* context) {
  g_table_sink = sink;
  g_table_context = context;
}

bool parse_command_line(int argc, char** argv, const std::string& usage, po::options_description& opts,
                        const po::positional_options_description& pos, po::variables_map& vm) {
  opts.add_options()("help,h", "show this help");
  if (g_table_sink) {
    g_table_sink(usage, opts, pos, g_table_context);
    return false;
  }
  const po::parsed_options parsed = po::command_line_parser(argc, argv).options(opts).positional(pos).run();
  po::store(parsed, vm);
  if (vm.count("help")) {
    std::cout << usage << "\n\n" << opts << "\n";
    return false;
  }
  refuse_negative_unsigned(parsed, vm);
  po::notify(vm);
  return true;
}

namespace {

namespace fs = std::filesystem;

// Error(kIo) when a component of `path` is longer than one file name may be,
// or the whole is longer than a path may be (ENAMETOOLONG), before anything
// is created: the temp name beside it is cut to fit, so only the final
// rename would fail, after all the work.
void check_name_lengths(const std::string& path, const std::string& flag) {
  const long name_max = 255, path_max = PATH_MAX;
  if (long(path.size()) >= path_max)
    throw Error(ExitCode::kIo, flag + " '" + path.substr(0, 60) + "...': the path is " + std::to_string(path.size()) +
                                   " bytes, longer than the " + std::to_string(path_max - 1) +
                                   " the system allows (File name too long)");
  for (const auto& part : fs::path(path))
    if (long(part.native().size()) > name_max)
      throw Error(ExitCode::kIo, flag + " '" + path + "': the name '" + part.native().substr(0, 40) + "...' is " +
                                     std::to_string(part.native().size()) + " bytes, longer than the " +
                                     std::to_string(name_max) + " a file name may have (File name too long)");
}

std::string folder_of(const std::string& path) {
  const std::string p = fs::path(path).parent_path().string();
  return p.empty() ? "." : p;
}

// `inner` is `outer` or lies inside it, judged on absolute, normalized paths
// with symbolic links resolved where they exist.
bool lies_within(const std::string& inner, const std::string& outer) {
  std::error_code ec;
  const fs::path in = fs::weakly_canonical(fs::absolute(inner, ec), ec),
                 out = fs::weakly_canonical(fs::absolute(outer, ec), ec);
  auto i = in.begin();
  for (auto o = out.begin(); o != out.end(); ++o, ++i) {
    if (o->empty()) continue;  // a trailing separator
    if (i == in.end() || *i != *o) return false;
  }
  return true;
}

}  // namespace

void check_output_file(const std::string& path, const std::string& flag, const std::vector<std::string>& inputs) {
  if (path.empty()) return;
  std::error_code ec;
  if (path.back() == '/' || fs::is_directory(path, ec))
    throw Error(ExitCode::kUsage, flag + " '" + path + "' is a folder; a file name is expected");
  check_name_lengths(path, flag);
  const std::string dir = folder_of(path);
  const fs::file_status st = fs::status(dir, ec);
  if (!fs::exists(st)) throw Error(ExitCode::kIo, flag + " '" + path + "': the folder '" + dir + "' does not exist");
  if (!fs::is_directory(st)) throw Error(ExitCode::kIo, flag + " '" + path + "': '" + dir + "' is not a folder");
  check_can_create_in(dir, path);
  refuse_output_over_input(path, flag, inputs);
}

std::string json_text(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

JsonStdout::JsonStdout(bool on) {
  if (!on) return;
  std::fflush(stdout);
  std::cout.flush();
  saved_fd_ = dup(STDOUT_FILENO);
  if (saved_fd_ < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
    throw Error(ExitCode::kIo, std::string("--json: cannot redirect stdout: ") + std::strerror(errno));
}

JsonStdout::~JsonStdout() {
  if (saved_fd_ < 0) return;
  std::fflush(stdout);
  std::cout.flush();
  dup2(saved_fd_, STDOUT_FILENO);
  close(saved_fd_);
}

void JsonStdout::emit(const nlohmann::json& j) {
  if (saved_fd_ < 0) return;
  std::fflush(stdout);
  std::cout.flush();
  const std::string text = json_text(j);
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = write(saved_fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error(ExitCode::kIo, std::string("--json: cannot write to stdout: ") + std::strerror(errno));
    done += size_t(n);
  }
}

void check_output_folder(const std::string& path, const std::string& flag, const std::vector<std::string>& inputs) {
  if (path.empty()) return;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (fs::exists(st) && !fs::is_directory(st))
    throw Error(ExitCode::kUsage, flag + " '" + path + "' is a file; a folder is expected");
  check_name_lengths(path, flag);
  // The folder itself, or the nearest existing folder above it, where it will be made.
  std::string existing = path;
  while (!fs::exists(existing, ec)) {
    const std::string up = folder_of(existing);
    if (up == existing) break;
    existing = up;
  }
  if (!fs::is_directory(existing, ec))
    throw Error(ExitCode::kIo, flag + " '" + path + "': '" + existing + "' is not a folder");
  check_can_create_in(existing, path);
  for (const std::string& in : inputs)
    if (!in.empty() && fs::exists(in, ec) && lies_within(in, path))
      throw Error(ExitCode::kUsage, flag + " '" + path + "' holds the input '" + in +
                                        "': writing the folder would replace it (choose another folder)");
}

std::unique_ptr<AtomicFile> prepare_json_file(const std::string& path, const nlohmann::json& j) {
  // Names from input files (GGUF tensor names, metadata) may hold bytes that
  // are not UTF-8: json_text writes them as U+FFFD instead of failing the run
  // after all its work.
  const std::string text = json_text(j);
  auto f = std::make_unique<AtomicFile>(path);
  f->write(text.data(), text.size());
  f->finish();
  return f;
}

void write_json_file(const std::string& path, const nlohmann::json& j) { prepare_json_file(path, j)->commit(); }

void write_text_output(const std::string& path, const std::string& text) {
  if (path.empty()) {
    std::cout << text << std::flush;
    return;
  }
  AtomicFile f(path);
  f.write(text.data(), text.size());
  f.commit();
}

void MemoryOptions::add_to(po::options_description& opts) {
  opts.add_options()("stream", po::value(&stream)->default_value("auto"),
                     "auto|on|off: hold one layer's fp32 weights at a time instead of the whole model (auto: when "
                     "the in-memory mode would exceed --max-memory-gb)")(
      "max-memory-gb", po::value(&max_memory_gb),
      "memory budget for --stream auto, GB (default: 60% of physical memory)");
}

StreamChoice MemoryOptions::choice() const {
  if (stream == "auto") return StreamChoice::kAuto;
  if (stream == "on") return StreamChoice::kOn;
  if (stream == "off") return StreamChoice::kOff;
  throw Error(ExitCode::kUsage, "--stream '" + stream + "': expected auto, on or off");
}

uint64_t MemoryOptions::budget_bytes() const {
  if (max_memory_gb < 0 || max_memory_gb > 1e6) throw Error(ExitCode::kUsage, "--max-memory-gb must be in (0, 1e6]");
  return max_memory_gb > 0 ? uint64_t(max_memory_gb * 1e9) : default_memory_budget();
}

nlohmann::json MemoryOptions::report(bool streaming, uint64_t in_memory_bytes) const {
  return {{"streaming", streaming},
          {"stream", stream},
          {"memory_budget_bytes", budget_bytes()},
          {"in_memory_bytes", in_memory_bytes}};
}

std::string MemoryOptions::line(bool streaming, uint64_t in_memory_bytes) const {
  char buf[256];
  std::snprintf(buf, sizeof buf, "weights: %s (in memory: %.2f GB of fp32, budget %.2f GB%s)",
                streaming ? "streamed one layer at a time" : "all in memory", double(in_memory_bytes) / 1e9,
                double(budget_bytes()) / 1e9, stream == "auto" ? "" : (", --stream " + stream).c_str());
  return buf;
}

}  // namespace lutc::cli

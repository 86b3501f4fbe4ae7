#include "cli_util.h"

#include <cmath>
#include <cstdio>
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

}  // namespace

std::string json_text(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void write_json_file(const std::string& path, const nlohmann::json& j) {
  const std::string text = json_text(j);
  AtomicFile f(path);
  f.write(text.data(), text.size());
  f.commit();
}

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
  return {{"streaming", streaming}, {"stream", stream}, {"memory_budget_bytes", budget_bytes()},
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

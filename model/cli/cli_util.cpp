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

}  // namespace

bool parse_command_line(int argc, char** argv, const std::string& usage, po::options_description& opts,
                        const po::positional_options_description& pos, po::variables_map& vm) {
  opts.add_options()("help,h", "show this help");
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

// 16, 0.98, 1e+12: what the user typed, not std::to_string's 16.000000.
std::string shortest(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

}  // namespace

void check_range(const std::string& flag, double v, double lo, double hi) {
  if (!(v >= lo && v <= hi) || !std::isfinite(v))
    throw Error(ExitCode::kUsage,
                "--" + flag + " " + shortest(v) + " is out of range [" + shortest(lo) + ", " + shortest(hi) + "]");
}

void write_json_file(const std::string& path, const nlohmann::json& j) {
  const std::string text = j.dump(2) + "\n";
  AtomicFile f(path);
  f.write(text.data(), text.size());
  f.commit();
}

}  // namespace lutc::cli

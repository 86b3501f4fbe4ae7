#include "cli_util.h"

#include <cmath>
#include <cstdio>
#include <iostream>

#include "lutc/model/atomic_file.h"
#include "lutc/model/error.h"

namespace lutc::cli {

bool parse_command_line(int argc, char** argv, const std::string& usage, po::options_description& opts,
                        const po::positional_options_description& pos, po::variables_map& vm) {
  opts.add_options()("help,h", "show this help");
  po::store(po::command_line_parser(argc, argv).options(opts).positional(pos).run(), vm);
  if (vm.count("help")) {
    std::cout << usage << "\n\n" << opts << "\n";
    return false;
  }
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

#pragma once
// Small pieces every subcommand shares: option parsing with a uniform --help,
// range checks that name the flag, and atomic JSON output.
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace lutc::cli {

namespace po = boost::program_options;

// Parses argv against `opts` (+ positionals); returns false when --help was
// printed. Unknown flags and bad values throw po::error (exit code 2 in main).
bool parse_command_line(int argc, char** argv, const std::string& usage, po::options_description& opts,
                        const po::positional_options_description& pos, po::variables_map& vm);

// Throws Error(kUsage) naming the flag when v is outside [lo, hi].
void check_range(const std::string& flag, double v, double lo, double hi);

void write_json_file(const std::string& path, const nlohmann::json& j);

}  // namespace lutc::cli

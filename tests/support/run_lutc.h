#pragma once
// Runs the lutc executable and captures its exit code, stdout and stderr.
#include <string>
#include <vector>

namespace lutc::testing {

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

RunResult run_lutc(const std::vector<std::string>& args);
// Every file in dir (names only), to prove no temp or partial output remains.
std::vector<std::string> files_in(const std::string& dir);

}  // namespace lutc::testing

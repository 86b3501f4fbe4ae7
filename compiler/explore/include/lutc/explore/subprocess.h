#pragma once
// Runs another program (usually this lutc, /proc/self/exe) to completion with
// its stdout and stderr in a log file. Every engine point is its own process
// because SystemC elaborates once per process.
#include <string>
#include <vector>

namespace lutc::explore {

// Returns the exit status (128 + signal when killed). Throws Error(kIo) when
// the program cannot be started.
int run_process(const std::vector<std::string>& argv, const std::string& log_path);

// The running executable, so subprocesses are the same build.
std::string self_executable();

// The last `max_chars` of a log file, for error messages.
std::string log_tail(const std::string& path, size_t max_chars = 600);

}  // namespace lutc::explore

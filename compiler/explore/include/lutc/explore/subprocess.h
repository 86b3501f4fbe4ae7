#pragma once
// Runs another program (usually this lutc, /proc/self/exe) to completion with
// its stdout and stderr in a log file. Every engine point is its own process
// because SystemC elaborates once per process.
#include <string>
#include <vector>

namespace lutc::explore {

// Returns the exit status (128 + signal when killed). Throws Error(kIo) when
// the program cannot be started. argv[0] is a path, never looked up on PATH;
// no shell is involved, so no argument is ever re-parsed. A non-empty
// work_dir is the child's working directory (the caller's stays as it is).
int run_process(const std::vector<std::string>& argv, const std::string& log_path, const std::string& work_dir = "");

// The running executable, so subprocesses are the same build.
std::string self_executable();

// The last `max_chars` of a log file, for error messages.
std::string log_tail(const std::string& path, size_t max_chars = 600);

}  // namespace lutc::explore

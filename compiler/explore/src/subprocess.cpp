#include "lutc/explore/subprocess.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lutc/model/error.h"
#include "lutc/model/temp_paths.h"

extern char** environ;

namespace lutc::explore {

int run_process(const std::vector<std::string>& argv, const std::string& log_path, const std::string& work_dir) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  // After the log is opened, so a relative log path means the caller's folder.
  if (!work_dir.empty()) posix_spawn_file_actions_addchdir_np(&fa, work_dir.c_str());
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw Error(ExitCode::kIo, "cannot start '" + argv[0] + "': " + std::strerror(rc));
  LiveChild live;  // a SIGINT or SIGTERM to this process reaches the child too
  live.set(long(pid));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw Error(ExitCode::kIo, "waitpid failed for '" + argv[0] + "'");
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 70;
}

std::string self_executable() {
  // The link itself, not its target: the children run this very image even
  // when the file is rebuilt or replaced while a long sweep is running.
  if (access("/proc/self/exe", X_OK) == 0) return "/proc/self/exe";
  throw Error(ExitCode::kIo, "cannot find this executable (/proc/self/exe is not accessible)");
}

std::string log_tail(const std::string& path, size_t max_chars) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.size() > max_chars) s = "..." + s.substr(s.size() - max_chars);
  return s;
}

}  // namespace lutc::explore

// A SIGTERM sent to `lutc explore` alone (not to its process group, as a
// batch system or `kill PID` does) reaches the child it is waiting for: the
// sweep's `lutc quantize` stops too instead of running on as an orphan.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "test_data.h"

extern char** environ;

namespace lutc::testing {
namespace {
namespace fs = std::filesystem;

// The children of `parent` (from /proc/<pid>/stat: "pid (comm) state ppid ...").
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream f(e.path() / "stat");
    std::string line;
    if (!std::getline(f, line)) continue;
    const size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    long ppid = 0;
    if (std::sscanf(line.c_str() + close + 1, " %c %ld", &state, &ppid) == 2 && ppid == parent && state != 'Z')
      out.push_back(pid_t(std::stol(name)));
  }
  return out;
}

// Running and not a zombie.
bool running(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return false;
  const size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

TEST(ExploreSignal, SigtermToTheParentAloneStopsTheChildItWaitsFor) {
  const std::string dir = temp_dir();
  // One quantization of a large synthetic model: long enough (tens of
  // seconds) that the child is still at work when the parent is signalled.
  std::ofstream(dir + "/slow.ini") << "[sweep]\nname = slow\nweights = synth:4096x11008@6\n"
                                      "[quant]\nscheme = xfp\n[arch]\ncore.lanes = 8\n";
  const std::vector<std::string> argv = {
      LUTC_BINARY,       "explore", "--quiet",    "--engine-exe", LUTC_STAND_IN_ENGINE,
      dir + "/slow.ini", "--out",   dir + "/out", "--jobs",       "1"};
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const std::string log = dir + "/explore.log";
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  // Its own process group, so that only the signal this test sends reaches it.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t parent = 0;
  ASSERT_EQ(posix_spawn(&parent, args[0], &fa, &attr, args.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);

  std::vector<pid_t> kids;
  const auto start = std::chrono::steady_clock::now();
  while (kids.empty() && std::chrono::steady_clock::now() - start < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    kids = children_of(parent);
  }
  if (kids.empty()) {
    ::kill(parent, SIGKILL);
    ::waitpid(parent, nullptr, 0);
    FAIL() << "explore started no child within 60 s";
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the child installs its handlers
  ASSERT_EQ(::kill(parent, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(parent, &status, 0), parent);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "status " << status;

  // The orphaned child, reparented, must end by itself within seconds.
  bool gone = false;
  const auto signalled = std::chrono::steady_clock::now();
  while (!gone && std::chrono::steady_clock::now() - signalled < std::chrono::seconds(15)) {
    gone = true;
    for (pid_t k : kids) gone = gone && !running(k);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (pid_t k : kids)
    if (running(k)) ::kill(k, SIGKILL);  // leave nothing behind whatever the result
  EXPECT_TRUE(gone) << "a child of the signalled explore kept running";
}

}  // namespace
}  // namespace lutc::testing

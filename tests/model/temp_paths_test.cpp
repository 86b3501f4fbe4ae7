// Temp names, their removal on SIGINT/SIGTERM, and the tidying of temps
// that killed runs left behind (lutc/model/temp_paths.h).
#include "lutc/model/temp_paths.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lutc/model/atomic_file.h"
#include "test_data.h"

namespace lutc {
namespace {

namespace fs = std::filesystem;
using namespace lutc::testing;

std::string fresh_dir(const std::string& name) {
  const std::string dir = temp_dir() + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(dir)) v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

// A process id that is certainly not running: a child that has exited and been reaped.
long dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return long(pid);
}

void age(const std::string& path, long seconds) {
  struct timespec t[2];
  ::clock_gettime(CLOCK_REALTIME, &t[0]);
  t[0].tv_sec -= seconds;
  t[1] = t[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// A temp name as another process `pid` would have made it.
std::string temp_of(const std::string& dir, const std::string& target, long pid, bool hidden, std::mt19937_64& rng) {
  std::string t = temp_path_beside(dir + "/" + target, hidden, 0);
  const std::string mine = ".tmp.lutc-" + std::to_string(::getpid()) + "-";
  const size_t at = t.rfind(mine);
  return t.substr(0, at) + ".tmp.lutc-" + std::to_string(pid) + "-" + std::to_string(rng() % 1000) + "-" +
         std::to_string(rng() % 100000);
}

TEST(TempPaths, NamesAreRecognisedWithTheirOwnerAndNothingElseIs) {
  std::mt19937_64 rng(fresh_seed());
  for (size_t len : {size_t(1), size_t(40), size_t(255)}) {
    std::string base(len, 'x');
    for (char& c : base) c = char('a' + rng() % 26);
    for (bool hidden : {false, true}) {
      const std::string p = temp_path_beside("/some/dir/" + base, hidden, unsigned(rng() % 16));
      const std::string name = p.substr(p.rfind('/') + 1);
      EXPECT_LE(name.size(), 255u);
      EXPECT_EQ(p.substr(0, 10), "/some/dir/");
      long pid = 0;
      EXPECT_TRUE(parse_temp_name(name, &pid)) << name;
      EXPECT_EQ(pid, long(::getpid()));
    }
  }
  long pid = 0;
  for (const char* other : {"model.xfp", "a.tmp.1.2.3", "a.tmp.XXXXXX", ".a.tmp.lutc-12-3", "a.tmp.lutc-12-3-x",
                            "a.tmp.lutc-x-1-2", "a.tmp.lutc-1-2-3.bak", "a.tmp.lutc--1-2"})
    EXPECT_FALSE(parse_temp_name(other, &pid)) << other;
}

// Killed runs' leftovers go; a running writer's temp, a fresh one whose
// owner may live in another pid namespace, and files of other shapes stay.
TEST(TempPaths, StaleTempsOfDeadRunsAreRemovedAndNothingElse) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = fresh_dir("stale");
  const long dead = dead_pid(), alive = long(::getppid());
  const long hour = 3600, day = 24 * hour;
  struct Case {
    std::string path;
    bool folder, removed;
  };
  std::vector<Case> cases = {
      {temp_of(dir, "a.xfp", dead, false, rng), false, true},    // dead, an hour old
      {temp_of(dir, "b", dead, true, rng), true, true},          // a dead run's folder, with files
      {temp_of(dir, "c.xfp", dead, false, rng), false, false},   // dead but just touched: the grace period
      {temp_of(dir, "d.xfp", alive, false, rng), false, false},  // a running writer's
      {temp_of(dir, "e.xfp", alive, false, rng), false, true},   // untouched for more than a day
      {dir + "/f.tmp.1.2.3", false, false},                      // not lutc's shape
      {dir + "/g.xfp", false, false},
  };
  const std::vector<long> ages = {hour, hour, 0, hour, day + hour, day + hour, day + hour};
  for (size_t i = 0; i < cases.size(); ++i) {
    if (cases[i].folder) {
      fs::create_directories(cases[i].path + "/sub");
      std::ofstream(cases[i].path + "/sub/x.lutp") << "x";
      std::ofstream(cases[i].path + "/y.lutp") << "y";
    } else {
      std::ofstream(cases[i].path) << "partial";
    }
    age(cases[i].path, ages[i]);
  }
  remove_stale_temps(dir);
  for (const Case& c : cases) EXPECT_EQ(fs::exists(c.path), !c.removed) << c.path;
}

// The writers themselves tidy the folder they write into.
TEST(TempPaths, AWriterRemovesStaleTempsBesideItsTarget) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = fresh_dir("writer");
  const std::string stale = temp_of(dir, "m.xfp", dead_pid(), false, rng);
  std::ofstream(stale) << "partial";
  age(stale, 3600);
  AtomicFile f(dir + "/m.xfp");
  f.write("x", 1);
  f.commit();
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"m.xfp"});
}

// finish() makes the bytes complete on disk without publishing them.
TEST(TempPaths, FinishedFileAppearsOnlyAtCommit) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = fresh_dir("finish");
  std::string bytes(1 + rng() % 5000, '\0');
  for (char& c : bytes) c = char(rng());
  AtomicFile f(dir + "/out.bin");
  f.write(bytes.data(), bytes.size());
  f.finish();
  EXPECT_FALSE(fs::exists(dir + "/out.bin"));
  EXPECT_EQ(fs::file_size(f.temp_path()), bytes.size());
  f.commit();
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"out.bin"});
  EXPECT_EQ(fs::file_size(dir + "/out.bin"), bytes.size());
}

// A child process with a half-written file and a half-written folder gets
// the signal: they are gone and the child died of that signal.
void expect_signal_removes_temps(int sig) {
  const std::string dir = fresh_dir("signal" + std::to_string(sig));
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    remove_temps_on_signals();
    AtomicFile f(dir + "/out.xfp");
    f.write("partial", 7);
    AtomicFolder d(dir + "/programs", false);
    fs::create_directories(d.file("sub"));
    std::ofstream(d.file("a.lutp")) << "a";
    std::ofstream(d.file("sub/b.lutp")) << "b";
    (void)!::write(ready[1], "r", 1);
    for (;;) ::pause();  // until the signal; destructors never run
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  EXPECT_EQ(names_in(dir).size(), 2u);  // the two temps, before the signal
  ::kill(pid, sig);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), sig);
  EXPECT_EQ(names_in(dir), std::vector<std::string>{});
}

TEST(TempPaths, SigintRemovesLiveTempsAndStillKills) { expect_signal_removes_temps(SIGINT); }
TEST(TempPaths, SigtermRemovesLiveTempsAndStillKills) { expect_signal_removes_temps(SIGTERM); }

// nohup and background jobs ignore some signals; installing the cleanup must not undo that.
TEST(TempPaths, AnIgnoredSignalStaysIgnored) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGHUP, SIG_IGN);
    remove_temps_on_signals();
    ::raise(SIGHUP);
    ::_exit(7);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 7);
}

}  // namespace
}  // namespace lutc

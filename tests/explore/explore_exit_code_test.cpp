// `lutc explore` exits with the class of what went wrong, never 70 for a
// fault of the input or the disk: a sweep that is not UTF-8 is bad input
// (3, naming the file and line); a point whose engine child exited 3 or 4
// passes that class on; an --out that cannot be made is an I/O error (4).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <sys/stat.h>

#include "run_lutc.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

namespace fs = std::filesystem;

const char* kSweep =
    "[sweep]\nname = tiny\nweights = synth:32x128@%SEED%\n"
    "[quant]\nscheme = int4.g128\n"
    "[arch]\ncore.lanes = 8, 16\n";

std::string sweep_text(uint64_t seed) {
  std::string s = kSweep;
  s.replace(s.find("%SEED%"), 6, std::to_string(seed));
  return s;
}

std::string fresh(const std::string& name) {
  const std::string dir = temp_dir() + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(ExploreExitCode, ASweepThatIsNotUtf8IsBadInputNamingFileAndLine) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = fresh("utf8");
  std::string text = sweep_text(rng() % 100000 + 1);
  // A Latin-1 byte (or a stray continuation byte) in the name, on line 2.
  const std::string bad(1, char(rng() % 2 ? 0xE9 : 0x80 + rng() % 0x40));
  text.replace(text.find("tiny"), 4, "t" + bad + "ny");
  std::ofstream(dir + "/s.ini", std::ios::binary) << text;
  const RunResult r = run_lutc({"explore", dir + "/s.ini", "--out", dir + "/out", "-q"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find(dir + "/s.ini"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("UTF-8"), std::string::npos) << r.err;
}

// The engine is a script that exits with the given status, as `lutc sim`
// does on a corrupt program (3) or a disk it cannot write (4).
TEST(ExploreExitCode, AChildsInputOrIoClassIsPassedOn) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = fresh("child");
  std::ofstream(dir + "/s.ini") << sweep_text(rng() % 100000 + 1);
  for (int code : {3, 4}) {
    SCOPED_TRACE(code);
    const std::string engine = dir + "/engine" + std::to_string(code) + ".sh";
    std::ofstream(engine) << "#!/bin/sh\necho 'lutc sim: error: stand-in failure' >&2\nexit " << code << "\n";
    fs::permissions(engine, fs::perms::owner_all);
    const RunResult r = run_lutc({"explore", dir + "/s.ini", "--out", dir + "/out" + std::to_string(code),
                                  "--engine-exe", engine, "-q", "--jobs", std::to_string(1 + rng() % 2)});
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_NE(r.err.find("exited " + std::to_string(code)), std::string::npos) << r.err;
  }
}

TEST(ExploreExitCode, AnOutFolderThatCannotBeMadeIsAnIoError) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = fresh("out");
  std::ofstream(dir + "/s.ini") << sweep_text(rng() % 100000 + 1);
  // sysfs refuses new entries to every user, root included.
  RunResult r = run_lutc({"explore", dir + "/s.ini", "--out", "/sys/lutc-explore-out", "-q"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("/sys"), std::string::npos) << r.err;
  // A file where the folder should be: a usage error, not a crash.
  std::ofstream(dir + "/file") << "x";
  r = run_lutc({"explore", dir + "/s.ini", "--out", dir + "/file", "-q"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // --out the sweep's own folder, where results.json is the sweep: refused before it is replaced.
  fs::rename(dir + "/s.ini", dir + "/results.json");
  r = run_lutc({"explore", dir + "/results.json", "--out", dir, "-q"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(fs::exists(dir + "/results.json"));
}

}  // namespace
}  // namespace lutc::testing

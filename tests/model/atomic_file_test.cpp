#include "lutc/model/atomic_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <stdexcept>

#include "lutc/model/error.h"
#include "test_data.h"
#include "weight_file_builders.h"

namespace lutc {
namespace {

namespace fs = std::filesystem;
using namespace lutc::testing;

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> v(n);
  for (uint8_t& b : v) b = uint8_t(rng());
  return v;
}

// An empty directory of its own, so leftovers from repeated runs cannot count.
std::string empty_dir() {
  static int n = 0;
  const std::string dir = temp_dir() + "/run" + std::to_string(n++);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

size_t entries_in(const std::string& dir) {
  return size_t(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

// A name of 230-255 bytes is legal; the temp name beside it must still fit
// one file-name component, for files and folders alike.
TEST(AtomicFile, LongLegalNamesAreWritable) {
  const std::string dir = empty_dir();
  std::mt19937_64 rng(fresh_seed());
  for (size_t len : {size_t(230), size_t(240), size_t(255)}) {
    std::string name(len, 'a');
    for (char& c : name) c = char('a' + rng() % 26);
    const std::string path = dir + "/" + name;
    AtomicFile f(path);
    f.write(name.data(), name.size());
    f.commit();
    EXPECT_EQ(read_file(path).size(), len);
    // Upper case, so the folder's name can never equal the lower-case file's.
    const std::string folder = dir + "/D" + name.substr(1);
    AtomicFolder d(folder, false);
    d.commit();
    EXPECT_TRUE(fs::is_directory(folder));
  }
  // Only the three files and three folders remain: no temp file or folder beside them.
  EXPECT_EQ(entries_in(dir), 6u);
}

TEST(AtomicFile, CommitWritesEveryChunk) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = empty_dir(), path = dir + "/out.bin";
  const std::vector<uint8_t> want = random_bytes(rng, 1 + rng() % 100000);
  {
    AtomicFile f(path);
    for (size_t at = 0; at < want.size();) {
      const size_t n = std::min<size_t>(want.size() - at, rng() % 5000);
      f.write(want.data() + at, n);
      at += n;
    }
    EXPECT_EQ(f.bytes_written(), want.size());
    EXPECT_FALSE(fs::exists(path)) << "visible before commit";
    f.commit();
  }
  EXPECT_EQ(read_file(path), want);
  EXPECT_EQ(entries_in(dir), 1u) << "temp file left behind";
}

TEST(AtomicFile, NothingAppearsWithoutCommit) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = empty_dir(), path = dir + "/never.bin";
  try {
    AtomicFile f(path);
    const auto bytes = random_bytes(rng, 1 + rng() % 4096);
    f.write(bytes.data(), bytes.size());
    throw std::runtime_error("a check failed halfway");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(entries_in(dir), 0u) << "temp file left behind";
}

TEST(AtomicFile, ExistingTargetUntouchedUntilCommit) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = empty_dir(), path = dir + "/target.bin";
  const auto old_bytes = random_bytes(rng, 1 + rng() % 3000), new_bytes = random_bytes(rng, 1 + rng() % 3000);
  write_file(path, old_bytes);
  {
    AtomicFile f(path);
    f.write(new_bytes.data(), new_bytes.size());
    EXPECT_EQ(read_file(path), old_bytes);
    f.commit();
    EXPECT_EQ(read_file(path), new_bytes);
  }
  EXPECT_EQ(entries_in(dir), 1u);
}

TEST(AtomicFile, FailedWriteKeepsExistingTarget) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = empty_dir(), path = dir + "/keep.bin";
  const auto old_bytes = random_bytes(rng, 1 + rng() % 3000);
  write_file(path, old_bytes);
  try {
    AtomicFile f(path);
    f.write("partial", 7);
    throw std::runtime_error("abandoned");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(read_file(path), old_bytes);
  EXPECT_EQ(entries_in(dir), 1u);
}

TEST(AtomicFile, ConcurrentWritersToOneTargetDoNotShareTempFiles) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = empty_dir(), path = dir + "/shared.bin";
  const auto a = random_bytes(rng, 100 + rng() % 100), b = random_bytes(rng, 100 + rng() % 100);
  AtomicFile fa(path), fb(path);
  fa.write(a.data(), a.size());
  fb.write(b.data(), b.size());
  EXPECT_EQ(entries_in(dir), 2u);
  fa.commit();
  EXPECT_EQ(read_file(path), a);
  fb.commit();
  EXPECT_EQ(read_file(path), b);
  EXPECT_EQ(entries_in(dir), 1u);
}

TEST(AtomicFile, UnwritableDirectoryIsAnIoErrorNamingThePath) {
  const std::string path = temp_dir() + "/no/such/dir/out.bin";
  try {
    AtomicFile f(path);
    FAIL() << "created a file in a missing directory";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(AtomicFile, WriteAfterCommitIsRefused) {
  const std::string path = temp_dir() + "/once.bin";
  AtomicFile f(path);
  f.commit();
  EXPECT_TRUE(fs::exists(path)) << "an empty file is still a file";
  EXPECT_THROW(f.write("x", 1), Error);
  EXPECT_THROW(f.commit(), Error);
}

// AtomicFolder: the folder appears whole at commit, never in part.
void write_file(const std::string& path, const std::string& text) {
  AtomicFile f(path);
  f.write(text.data(), text.size());
  f.commit();
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(AtomicFolder, AppearsOnlyAtCommit) {
  const std::string dir = temp_dir(), out = dir + "/model";
  {
    AtomicFolder f(out, false);
    write_file(f.file("a.bin"), "a");
    write_file(f.file("b.json"), "{}");
    EXPECT_FALSE(fs::exists(out));
    f.commit();
  }
  EXPECT_EQ(names_in(out), (std::vector<std::string>{"a.bin", "b.json"}));
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"model"}) << "no temp folder left";
}

TEST(AtomicFolder, NothingLeftWithoutCommit) {
  const std::string dir = temp_dir(), out = dir + "/model";
  {
    AtomicFolder f(out, false);
    write_file(f.file("a.bin"), "a");
  }
  EXPECT_TRUE(names_in(dir).empty());
}

TEST(AtomicFolder, NonEmptyTargetRefusedUnlessReplacing) {
  const std::string dir = temp_dir(), out = dir + "/model";
  fs::create_directories(out);
  write_file(out + "/old.txt", "old");
  try {
    AtomicFolder f(out, false);
    ADD_FAILURE() << "a non-empty folder was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
    EXPECT_NE(std::string(e.what()).find(out), std::string::npos) << e.what();
  }
  {
    AtomicFolder f(out, true);
    write_file(f.file("new.txt"), "new");
    EXPECT_EQ(names_in(out), std::vector<std::string>{"old.txt"}) << "untouched until commit";
    f.commit();
  }
  EXPECT_EQ(names_in(out), std::vector<std::string>{"new.txt"});
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"model"}) << "the old folder is removed";
  // An existing empty folder is simply filled; a file in the way is refused.
  fs::create_directories(dir + "/empty");
  AtomicFolder e(dir + "/empty", false);
  write_file(e.file("x"), "x");
  e.commit();
  EXPECT_EQ(names_in(dir + "/empty"), std::vector<std::string>{"x"});
  EXPECT_THROW(AtomicFolder(dir + "/empty/x", true), Error);
}

}  // namespace
}  // namespace lutc

// MappedFile: the mapping holds the file's bytes, release() drops pages
// without changing what is read, and every refusal has its exit class.
#include "core/mapped_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "lutc/model/error.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace lutc::testing;

std::string write_bytes(const std::string& name, const std::vector<uint8_t>& b) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  return path;
}

ExitCode refusal(const std::string& path) {
  try {
    MappedFile f(path);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    return e.code();
  }
  return ExitCode::kOk;
}

TEST(MappedFile, HoldsTheFileBytes) {
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const size_t page = size_t(::sysconf(_SC_PAGESIZE));
  for (size_t n : {size_t(1), page - 1, page, page + 1, 5 * page + size_t(rng() % page)}) {
    SCOPED_TRACE(n);
    std::vector<uint8_t> b(n);
    for (uint8_t& x : b) x = uint8_t(rng());
    const std::string path = write_bytes("f" + std::to_string(n), b);
    const MappedFile f(path);
    ASSERT_EQ(f.size(), n);
    EXPECT_EQ(f.path(), path);
    ASSERT_NE(f.data(), nullptr);
    EXPECT_EQ(std::memcmp(f.data(), b.data(), n), 0);
  }
}

TEST(MappedFile, ReleaseKeepsTheBytesReadable) {
  const uint64_t seed = fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const size_t page = size_t(::sysconf(_SC_PAGESIZE));
  const size_t n = 7 * page + 123;
  std::vector<uint8_t> b(n);
  for (uint8_t& x : b) x = uint8_t(rng());
  const MappedFile f(write_bytes("r", b));
  ASSERT_EQ(std::memcmp(f.data(), b.data(), n), 0);
  // Unaligned ranges, ranges past the end, empty ranges and a start past the
  // end: advice only, never a crash or a changed byte.
  for (int i = 0; i < 50; ++i) {
    const uint64_t at = rng() % (n + 2 * page), len = rng() % (3 * page);
    f.release(at, len);
    ASSERT_EQ(std::memcmp(f.data(), b.data(), n), 0) << "after release(" << at << ", " << len << ")";
  }
  f.release(0, UINT64_MAX);
  f.release(UINT64_MAX, UINT64_MAX);
  EXPECT_EQ(std::memcmp(f.data(), b.data(), n), 0);
}

TEST(MappedFile, EmptyFileIsBadInput) { EXPECT_EQ(refusal(write_bytes("empty", {})), ExitCode::kBadInput); }

TEST(MappedFile, MissingFolderOrDeviceIsIo) {
  EXPECT_EQ(refusal(temp_dir() + "/no_such_file"), ExitCode::kIo);
  const std::string dir = temp_dir() + "/folder";
  std::filesystem::create_directories(dir);
  EXPECT_EQ(refusal(dir), ExitCode::kIo);
  EXPECT_EQ(refusal("/dev/null"), ExitCode::kIo);  // not a regular file
}

}  // namespace
}  // namespace lutc

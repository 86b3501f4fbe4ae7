#include "test_data.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>

#include <unistd.h>

namespace lutc::testing {

std::string shared_data(const std::string& relative) {
  // LUTC_SHARED_DATA in the environment moves the folder (a test binary run
  // away from its build tree, e.g. from a scripts/gpu-bundle bundle).
  const char* moved = std::getenv("LUTC_SHARED_DATA");
  return std::string(moved && *moved ? moved : LUTC_SHARED_DATA) + "/" + relative;
}

bool require_file(const std::string& path) {
  if (std::filesystem::exists(path)) return true;
  const char* ci = std::getenv("CI");
  if (ci && std::string(ci) == "true") {
    ADD_FAILURE() << "required test input missing on CI: " << path;
  } else {
    // GTEST_SKIP returns from the enclosing function, so it lives in a lambda;
    // callers return when this function reports false.
    [&] { GTEST_SKIP() << "test input missing (fails on CI): " << path; }();
  }
  return false;
}

uint64_t fresh_seed() {
  if (const char* s = std::getenv("LUTC_SEED")) return std::strtoull(s, nullptr, 10);
  std::random_device rd;
  const uint64_t seed =
      (uint64_t(rd()) << 32) ^ rd() ^ uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  std::printf("[ seed     ] LUTC_SEED=%llu\n", static_cast<unsigned long long>(seed));
  return seed;
}

namespace {

namespace fs = std::filesystem;

const fs::path& temp_root() {
  static const fs::path root = [] {
    fs::path p = fs::temp_directory_path() / ("lutc_test_" + std::to_string(::getpid()));
    fs::create_directories(p);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(fs::temp_directory_path() / ("lutc_test_" + std::to_string(::getpid())), ec);
    });
    return p;
  }();
  return root;
}

fs::path test_dir(const ::testing::TestInfo& info) {
  return temp_root() / (std::string(info.test_suite_name()) + "." + info.name());
}

// Each run of a test starts with an empty directory, also under
// --gtest_repeat, where the same test would otherwise see its last run's files.
class FreshTempDirs : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo& info) override {
    std::error_code ec;
    fs::remove_all(test_dir(info), ec);
  }
};

const bool kFreshTempDirs = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new FreshTempDirs);
  return true;
}();

}  // namespace

std::string temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path p = info ? test_dir(*info) : temp_root() / "misc";
  fs::create_directories(p);
  return p.string();
}

}  // namespace lutc::testing

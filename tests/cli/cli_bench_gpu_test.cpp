// `lutc bench --gpu` hands over to `lutc gpu-bench`: it measures where a GPU
// is present, and otherwise fails with a clear message and a documented exit
// code (4: no CUDA device; 2: a build without CUDA), never silently on the CPU.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_lutc.h"

namespace lutc::testing {
namespace {

bool build_has_cuda() { return run_lutc({"--help"}).out.find("  gpu-bench ") != std::string::npos; }

TEST(BenchGpuCli, SyntheticRunsOrSaysThereIsNoGpu) {
  const RunResult r = run_lutc({"bench", "--gpu", "--synthetic", "64x64", "--batch", "2", "--repeat", "1", "--json"});
  if (!build_has_cuda()) {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("without CUDA"), std::string::npos) << r.err;
    return;
  }
  if (r.exit_code == 4) {  // CUDA build, no device
    EXPECT_NE(r.err.find("no CUDA device"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    return;
  }
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0].at("rows").get<int>(), 64);
  EXPECT_EQ(j[0].at("cols").get<int>(), 64);
  EXPECT_EQ(j[0].at("batch").get<int>(), 2);
  for (const char* k : {"time_s", "gb_per_s", "copy_gb_per_s", "speedup_vs_cublas_fp16", "device"})
    EXPECT_TRUE(j[0].contains(k)) << k;
  EXPECT_GT(j[0].at("time_s").get<double>(), 0);
}

TEST(BenchGpuCli, HelpMentionsGpu) {
  const RunResult r = run_lutc({"bench", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--gpu"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gpu-bench"), std::string::npos) << r.out;
}

TEST(BenchGpuCli, CpuOnlyFlagsAndBadValuesAreUsageErrors) {
  // Refused before any device is looked for, in every build.
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"bench", "--gpu", "--synthetic", "8x8", "--threads", "2"},
                                             {"bench", "--gpu", "--synthetic", "8x8", "--batch", "17"},
                                             {"bench", "--gpu", "x.xfp", "--cpu", "y.xfp"},
                                             {"bench", "--gpu"}}) {
    const RunResult r = run_lutc(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    EXPECT_NE(r.err.find("error"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace lutc::testing

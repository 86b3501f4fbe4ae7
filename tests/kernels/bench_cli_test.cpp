// `lutc bench` end to end on tiny shapes: every path reports, the JSON has
// the fields the docs promise, and bad flags fail with the usage exit code.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "kernel_schemes.h"
#include "lutc/model/xfp_file.h"
#include "test_data.h"

#include "run_lutc.h"

namespace lutc::testing {
namespace {

TEST(BenchCli, SyntheticJsonHasEveryPathAndField) {
  const RunResult r = run_lutc({"bench", "--synthetic", "64x300", "--threads", "1,2", "--batch", "3", "--copies", "2",
                                "--repeat", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 6u);  // 3 paths x 2 thread counts
  std::set<std::string> paths;
  for (const auto& e : j) {
    paths.insert(e.at("path").get<std::string>());
    for (const char* k : {"weights_per_s", "gb_per_s", "read_bw_gb_per_s", "pct_of_read_bw", "speedup_vs_eigen_fp32",
                          "stream_bpw", "packed_memory_bytes", "time_s", "isa"})
      EXPECT_TRUE(e.contains(k)) << k;
    EXPECT_GT(e.at("weights_per_s").get<double>(), 0);
    EXPECT_GT(e.at("read_bw_gb_per_s").get<double>(), 0);
    EXPECT_EQ(e.at("rows").get<int>(), 64);
    EXPECT_EQ(e.at("cols").get<int>(), 300);
    EXPECT_EQ(e.at("batch").get<int>(), 3);
  }
  EXPECT_EQ(paths, (std::set<std::string>{"exact", "f32", "i8"}));
}

TEST(BenchCli, HelpExplainsTheYardsticks) {
  const RunResult r = run_lutc({"bench", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("read bandwidth"), std::string::npos);
  EXPECT_NE(r.out.find("Eigen"), std::string::npos);
}

TEST(BenchCli, BadFlagsAreUsageErrors) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"bench"},
                                                                {"bench", "--synthetic", "12x"},
                                                                {"bench", "--synthetic", "8x8", "--cpu", "x.xfp"},
                                                                {"bench", "--synthetic", "8x8", "--path", "fast"},
                                                                {"bench", "--synthetic", "8x8", "--threads", "0"},
                                                                {"bench", "--synthetic", "8x8", "--isa", "sse9"}}) {
    const RunResult r = run_lutc(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    EXPECT_NE(r.err.find("error"), std::string::npos);
  }
}

TEST(BenchCli, MissingXfpIsAnIoOrInputError) {
  const RunResult r = run_lutc({"bench", "--cpu", "/nonexistent/file.xfp"});
  EXPECT_TRUE(r.exit_code == 3 || r.exit_code == 4) << r.exit_code << " " << r.err;
}

// bench's bpw is the effective bpw info reports for the same layer: every
// stored bit of its record (DESIGN.md), not the kernel's packed stream.
TEST(BenchCli, BpwEqualsInfosForEveryLayer) {
  std::mt19937_64 rng(fresh_seed());
  XfpFile f;
  for (Scheme s : kKernelSchemes) {
    SampleOptions o;
    o.rows = 8 + uint32_t(rng() % 56);
    o.cols = 128 + uint32_t(rng() % 200);
    QuantizedLayer l = s == Scheme::kSop ? random_sop_layer(rng, o) : random_layer(s, rng, o);
    l.name = std::string("layer.") + scheme_name(s);
    f.layers.push_back(std::move(l));
  }
  const std::string path = temp_dir() + "/r.xfp";
  write_xfp(path, f);
  RunResult r = run_lutc({"info", path, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, double> info_bpw;
  const nlohmann::json info = nlohmann::json::parse(r.out);
  for (const auto& l : info.at("layers")) info_bpw[l.at("name").get<std::string>()] = l.at("bpw").get<double>();
  r = run_lutc({"bench", "--cpu", path, "--threads", "1", "--copies", "1", "--repeat", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> seen;
  for (const auto& e : nlohmann::json::parse(r.out)) {
    const std::string name = e.at("layer");
    ASSERT_TRUE(info_bpw.count(name)) << name << " is not a layer info lists";
    EXPECT_EQ(e.at("bpw").get<double>(), info_bpw[name]) << name;
    seen.insert(name);
  }
  EXPECT_EQ(seen.size(), f.layers.size());
  r = run_lutc({"bench", "--cpu", path, "--threads", "1", "--copies", "1", "--repeat", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& [name, bpw] : info_bpw) {
    char cell[32];
    std::snprintf(cell, sizeof cell, "%5.2f", bpw);
    EXPECT_NE(r.out.find(cell), std::string::npos) << name << " " << cell << "\n" << r.out;
  }
}

}  // namespace
}  // namespace lutc::testing

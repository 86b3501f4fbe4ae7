// SystemC vs RTL cycles on the same programs: the directed regression set and
// 40 seeded random programs.
// The SystemC model runs one simulation per process, so each program goes
// through `lutc sim X.lutp --x x.npy --report R.json` in a child process; its
// report's `cycles` (and y) are compared with the RTL harness's run of the
// same program and activations. The model issues in order with the RTL's
// accept rules and unit latencies, so the cycles must be equal, program by
// program, and so must every instruction's accept cycle (both engines'
// --issue-log); any difference is a modelling error, reported at the first
// instruction where the two part. The table (and its worst
// case, max and mean) is printed for docs/sim.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>

#include "lutc/compiler/issue_log.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/npy.h"
#include "nlohmann/json.hpp"
#include "rtl_case.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

struct Row {
  std::string name;
  uint64_t rtl = 0, sim = 0;
  double rel() const { return rtl ? std::fabs(double(sim) - double(rtl)) / double(rtl) : 0; }
  bool within() const { return sim == rtl; }
};

TEST(RtlCalibration, SystemcCyclesAndIssueOrderEqualRtl) {
  const std::string dir = temp_dir();
  const uint64_t seed = fresh_seed();
  std::vector<Row> rows;
  std::string failures;
  double rtl_seconds = 0;
  uint64_t rtl_cycles = 0;
  std::vector<RtlCase> cases = directed_cases();
  for (int i = 0; i < 40; ++i) cases.push_back(random_case(seed + uint64_t(i)));
  for (RtlCase c : cases) {
    c.batch = 1;  // the RTL runs a batch as repeated programs; calibrate one vector
    std::mt19937_64 rng(seed);
    Program p;
    try {
      p = case_program(c, rng);
    } catch (const std::exception& e) {
      if (std::string(e.what()).find("cannot lower") != std::string::npos) continue;  // an untileable draw
      throw;
    }
    std::normal_distribution<float> n(0.0f, 1.0f);
    std::vector<float> x(p.meta.cols);
    for (auto& v : x) v = n(rng);
    const std::string lutp = dir + "/" + c.name + ".lutp", xnpy = dir + "/" + c.name + ".x.npy",
                      report = dir + "/" + c.name + ".json", ynpy = dir + "/" + c.name + ".y.npy",
                      issues = dir + "/" + c.name + ".issues.csv";
    write_lutp(lutp, p);
    write_npy(xnpy, {p.meta.cols}, x.data());
    const std::string cmd = std::string(LUTC_EXE) + " sim '" + lutp + "' --x '" + xnpy + "' -o '" + ynpy +
                            "' --report '" + report + "' --issue-log '" + issues + "' > /dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "failed: " << cmd;
    std::ifstream in(report);
    const nlohmann::json j = nlohmann::json::parse(in);
    std::vector<float> y(p.meta.rows, std::numeric_limits<float>::quiet_NaN());
    const auto t0 = std::chrono::steady_clock::now();
    rtl::RtlOptions opt;
    opt.keep_issue_log = true;
    const rtl::RtlResult r = rtl::run_rtl(p, x.data(), 1, y.data(), opt);
    rtl_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rtl_cycles += r.stats.cycles;
    const NpyArray sim_y = read_npy(ynpy);
    ASSERT_EQ(sim_y.data.size(), y.size()) << c.name;
    for (size_t i = 0; i < y.size(); ++i)
      ASSERT_EQ(std::memcmp(&y[i], &sim_y.data[i], 4), 0) << c.name << ": SystemC y differs from RTL at row " << i;
    Row row{c.name, r.stats.cycles, j.at("cycles").get<uint64_t>()};
    if (!row.within())
      failures += "  " + row.name + ": rtl " + std::to_string(row.rtl) + ", systemc " + std::to_string(row.sim) + "\n";
    const IssueLog sim_issues = read_issue_log(issues);
    ASSERT_EQ(r.issues.records.size(), p.code.size()) << c.name << ": the RTL log has one record per instruction";
    const std::string parted = first_issue_difference(r.issues, sim_issues, "rtl", "systemc");
    if (!parted.empty()) failures += "  " + row.name + " issue logs, " + parted;
    rows.push_back(row);
  }
  double sum = 0;
  const Row* worst = &rows.front();
  std::printf("%-28s %10s %10s %8s\n", "program", "rtl", "systemc", "diff%");
  for (const Row& r : rows) {
    std::printf("%-28s %10llu %10llu %+7.2f%%\n", r.name.c_str(), (unsigned long long)r.rtl, (unsigned long long)r.sim,
                100.0 * (double(r.sim) - double(r.rtl)) / double(r.rtl));
    sum += r.rel();
    if (r.rel() > worst->rel()) worst = &r;
  }
  std::printf("programs %zu, |diff| mean %.2f%%, max %.2f%% (%s)\n", rows.size(), 100.0 * sum / rows.size(),
              100.0 * worst->rel(), worst->name.c_str());
  std::printf("verilated engine: %llu cycles in %.3f s (%.2f M cycles/s, model construction included)\n",
              (unsigned long long)rtl_cycles, rtl_seconds, rtl_cycles / rtl_seconds / 1e6);
  EXPECT_TRUE(failures.empty()) << "SystemC cycles or accept cycles differ from the RTL's (LUTC_SEED=" << seed << "):\n"
                                << failures;
}

}  // namespace
}  // namespace lutc::testing

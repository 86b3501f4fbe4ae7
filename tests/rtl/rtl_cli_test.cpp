// `lutc rtl` end to end: y equals the executor's bit for bit, the report is
// the stats schema, a wave is written only when asked, the issue log is the
// SystemC model's file byte for byte, and a program for an
// arch the verilated engine does not have is refused with the reason.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/executor.h"
#include "lutc/compiler/issue_log.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/npy.h"
#include "nlohmann/json.hpp"
#include "rtl_case.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

namespace fs = std::filesystem;

int run(const std::string& args, const std::string& log) {
  return std::system((std::string(LUTC_EXE) + " rtl " + args + " > '" + log + "' 2>&1").c_str());
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(RtlCli, RunsProgramReportsStatsAndWaveOnRequest) {
  const std::string dir = temp_dir();
  std::mt19937_64 rng(fresh_seed());
  RtlCase c{"cli_v2a", Scheme::kXfpV2a, 4, 11, 150, 0};
  const Program p = case_program(c, rng);
  std::vector<float> x(2 * p.meta.cols);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (auto& v : x) v = n(rng);
  write_lutp(dir + "/l.lutp", p);
  write_npy(dir + "/x.npy", {2, p.meta.cols}, x.data());
  ASSERT_EQ(run("'" + dir + "/l.lutp' --x '" + dir + "/x.npy' -o '" + dir + "/y.npy' --report '" + dir + "/r.json'",
                dir + "/log"),
            0)
      << slurp(dir + "/log");
  EXPECT_FALSE(fs::exists(dir + "/w.fst"));
  std::vector<float> want(2 * p.meta.rows, std::numeric_limits<float>::quiet_NaN());
  execute(p, x.data(), 2, want.data());
  const NpyArray y = read_npy(dir + "/y.npy");
  ASSERT_EQ(y.data.size(), want.size());
  EXPECT_EQ(std::memcmp(y.data.data(), want.data(), 4 * want.size()), 0);
  const nlohmann::json j = nlohmann::json::parse(slurp(dir + "/r.json"));
  const EngineStats s = stats_from_json(j);
  EXPECT_EQ(s.engine, "rtl");
  EXPECT_EQ(s.batch, 2u);
  EXPECT_GT(s.cycles, 0u);
  EXPECT_EQ(s.actions.output_words, 2u * p.meta.rows);
  EXPECT_GT(s.energy.total_pj, 0.0);

  ASSERT_EQ(run("'" + dir + "/l.lutp' --x '" + dir + "/x.npy' --wave '" + dir + "/w.fst'", dir + "/log"), 0)
      << slurp(dir + "/log");
  EXPECT_GT(fs::file_size(dir + "/w.fst"), 100u);
}

// `lutc rtl --issue-log` and `lutc sim --issue-log` on one program write the
// same file, a line per instruction; an unwritable path fails with the I/O
// code and leaves nothing behind.
TEST(RtlCli, IssueLogsOfRtlAndSystemcAreTheSameFile) {
  const std::string dir = temp_dir();
  std::mt19937_64 rng(fresh_seed());
  RtlCase c{"cli_issue_log", Scheme::kInt4G128, 4, 9, 300, 0, {"sram.weight_kib=1", "sram.act_kib=1"}};
  const Program p = case_program(c, rng);
  std::vector<float> x(p.meta.cols);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (auto& v : x) v = n(rng);
  write_lutp(dir + "/l.lutp", p);
  write_npy(dir + "/x.npy", {p.meta.cols}, x.data());
  const std::string args = "'" + dir + "/l.lutp' --x '" + dir + "/x.npy' --issue-log ";
  ASSERT_EQ(run(args + "'" + dir + "/rtl.csv'", dir + "/log"), 0) << slurp(dir + "/log");
  ASSERT_EQ(std::system((std::string(LUTC_EXE) + " sim " + args + "'" + dir + "/sim.csv' > /dev/null 2>&1").c_str()),
            0);
  const IssueLog rtl_log = read_issue_log(dir + "/rtl.csv");
  ASSERT_EQ(rtl_log.records.size(), p.code.size());
  EXPECT_EQ(rtl_log.records.back().op, isa::Op::END);
  for (size_t i = 1; i < rtl_log.records.size(); ++i)
    EXPECT_GT(rtl_log.records[i].cycle, rtl_log.records[i - 1].cycle) << "one accept per cycle at most, pc " << i;
  EXPECT_EQ(first_issue_difference(rtl_log, read_issue_log(dir + "/sim.csv"), "rtl", "systemc"), "");
  EXPECT_EQ(slurp(dir + "/rtl.csv"), slurp(dir + "/sim.csv"));

  const int rc = run(args + "'" + dir + "/no/such/dir/i.csv'", dir + "/log");
  EXPECT_EQ(WEXITSTATUS(rc), 4) << slurp(dir + "/log");
  EXPECT_FALSE(fs::exists(dir + "/no/such/dir"));
}

TEST(RtlCli, RefusesAnArchTheEngineWasNotVerilatedFor) {
  const std::string dir = temp_dir();
  std::mt19937_64 rng(fresh_seed());
  RtlCase c{"wide", Scheme::kNf4B64, 4, 4, 64, 0, {"lut.banks=16"}};
  const Program p = case_program(c, rng);
  std::vector<float> x(p.meta.cols, 1.0f);
  write_lutp(dir + "/l.lutp", p);
  write_npy(dir + "/x.npy", {p.meta.cols}, x.data());
  EXPECT_NE(run("'" + dir + "/l.lutp' --x '" + dir + "/x.npy' -o '" + dir + "/y.npy'", dir + "/log"), 0);
  const std::string log = slurp(dir + "/log");
  EXPECT_NE(log.find("lut.banks = 16"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(dir + "/y.npy"));
}

}  // namespace
}  // namespace lutc::testing

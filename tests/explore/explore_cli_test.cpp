// `lutc explore` end to end. The bookkeeping tests use a stand-in engine
// (stand_in_engine.cpp) so they hold in any build; RunsOnTheSystemCModel uses
// the real `lutc sim` when this lutc has it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "lutc/explore/results.h"
#include "run_lutc.h"
#include "test_data.h"

namespace lutc::testing {
namespace {
namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

size_t lines(const std::string& s) { return size_t(std::count(s.begin(), s.end(), '\n')); }

// 3 quant configs x 4 archs on two small synthetic matrices.
const char* kSweep =
    "[sweep]\nname = tiny\nweights = synth:64x256,96x256@3\n"
    "[quant]\nscheme = xfp.v2, int4.g128\nbits = 3, 4\n"
    "[arch]\ncore.lanes = 8, 16\nhif.mant_bits = 6, 11\n";

class ExploreCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir();
    sweep_ = dir_ + "/tiny.ini";
    write(sweep_, kSweep);
  }
  RunResult explore(std::vector<std::string> args) {
    std::vector<std::string> a{"explore", "--quiet", "--engine-exe", LUTC_STAND_IN_ENGINE};
    a.insert(a.end(), args.begin(), args.end());
    return run_lutc(a);
  }
  std::string dir_, sweep_;
};

TEST_F(ExploreCli, WritesOneRowPerPointWithTheDocumentedColumnsAndAReport) {
  const auto r = explore({sweep_, "--out", dir_ + "/a", "--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string csv = slurp(dir_ + "/a/results.csv");
  EXPECT_EQ(lines(csv), 1u + 12u);
  std::string header;
  for (const auto& c : explore::result_columns()) header += (header.empty() ? "" : ",") + c;
  EXPECT_EQ(csv.substr(0, csv.find('\n')), header);
  EXPECT_NE(r.out.find("3 quantizations"), std::string::npos) << r.out;  // once per config, not per point
  const auto json = nlohmann::json::parse(slurp(dir_ + "/a/results.json"));
  ASSERT_EQ(json["points"].size(), 12u);
  int front = 0;
  for (const auto& p : json["points"]) {
    EXPECT_EQ(p["status"], "ok") << p.dump();
    EXPECT_GT(p["tokens_per_s"].get<double>(), 0);
    EXPECT_GT(p["energy_pj_per_token"].get<double>(), 0);
    front += p["pareto"].get<int>();
  }
  EXPECT_GE(front, 1);
  const std::string html = slurp(dir_ + "/a/report.html");
  EXPECT_NE(html.find("Pareto"), std::string::npos);
  if (fs::exists("/usr/bin/gnuplot")) {
    EXPECT_NE(html.find("<svg"), std::string::npos);
    for (const char* p : {"rate_distortion", "energy_vs_throughput", "energy_breakdown"})
      for (const char* ext : {".svg", ".png"}) EXPECT_TRUE(fs::exists(dir_ + "/a/plots/" + p + ext)) << p << ext;
  }
}

// gnuplot runs from an argument vector, not a shell string: an output folder
// with a quote and a space plots like any other, and the summary counts the
// plots and image files actually written.
TEST_F(ExploreCli, AnOutputPathWithAQuoteAndASpacePlotsAndTheCountIsWhatWasWritten) {
  if (!fs::exists("/usr/bin/gnuplot")) GTEST_SKIP() << "no gnuplot";
  const std::string out = dir_ + "/it's a \"folder\"";
  const auto r = explore({sweep_, "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("FAILED"), std::string::npos) << r.err;
  size_t images = 0;
  std::set<std::string> plots;
  for (const auto& e : fs::directory_iterator(out + "/plots")) {
    const std::string ext = e.path().extension().string();
    if (ext != ".svg" && ext != ".png") continue;
    EXPECT_GT(fs::file_size(e.path()), 0u) << e.path();
    ++images;
    plots.insert(e.path().stem().string());
  }
  EXPECT_EQ(images, 6u);
  EXPECT_NE(r.out.find("(" + std::to_string(plots.size()) + " plots: " + std::to_string(images) + " image files"),
            std::string::npos)
      << r.out;
  EXPECT_NE(slurp(out + "/report.html").find("<svg"), std::string::npos);
}

// A gnuplot that fails is reported with its log and fails the run (exit 4);
// the results and report.html are still written.
TEST_F(ExploreCli, AFailingGnuplotFailsTheRunAndSaysWhy) {
  const std::string bin = dir_ + "/bin";
  fs::create_directories(bin);
  const std::string word = "boom" + std::to_string(fresh_seed() % 100000);
  write(bin + "/gnuplot", "#!/bin/sh\necho " + word + " >&2\nexit 3\n");
  fs::permissions(bin + "/gnuplot", fs::perms::owner_all);
  const char* old = std::getenv("PATH");
  const std::string saved = old ? old : "";
  setenv("PATH", (bin + ":" + saved).c_str(), 1);
  const auto r = explore({sweep_, "--out", dir_ + "/g"});
  setenv("PATH", saved.c_str(), 1);
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("plot FAILED"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("gnuplot exited 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(word), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("(0 plots: 0 image files"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir_ + "/g/results.csv"));
  EXPECT_TRUE(fs::exists(dir_ + "/g/report.html"));
}

TEST_F(ExploreCli, SameSweepGivesByteIdenticalResultsWhateverTheJobCount) {
  ASSERT_EQ(explore({sweep_, "--out", dir_ + "/j1", "--jobs", "1"}).exit_code, 0);
  const auto r = explore({sweep_, "--out", dir_ + "/j3", "--jobs", "3", "--cache", dir_ + "/j1/cache"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0 quantizations"), std::string::npos) << r.out;  // the shared cache served them
  EXPECT_EQ(slurp(dir_ + "/j1/results.csv"), slurp(dir_ + "/j3/results.csv"));
  EXPECT_EQ(slurp(dir_ + "/j1/results.json"), slurp(dir_ + "/j3/results.json"));
}

TEST_F(ExploreCli, ADamagedCacheEntryIsNamedNotAnInternalError) {
  ASSERT_EQ(explore({sweep_, "--out", dir_ + "/c1", "--jobs", "2"}).exit_code, 0);
  int damaged = 0;
  for (const auto& d : fs::directory_iterator(dir_ + "/c1/cache/quant")) {
    const fs::path report = d.path() / "report.json";
    if (!fs::exists(report)) continue;
    const std::string text = slurp(report);
    write(report, text.substr(0, text.size() / 2));  // cut mid-document
    ++damaged;
  }
  ASSERT_GT(damaged, 0);
  const auto r = explore({sweep_, "--out", dir_ + "/c2", "--cache", dir_ + "/c1/cache"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("report.json' is not valid JSON"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("quantizes it again"), std::string::npos) << r.err;
}

TEST_F(ExploreCli, SharedCompilesGiveByteIdenticalResultsToOneCompilePerPoint) {
  // Per quantization 4 code shapes (lanes x HIF) x 2 DRAM widths x 2 accumulators,
  // 32-bit too narrow for these layers: half the points are infeasible.
  write(sweep_, std::string(kSweep) + "dram.bytes_per_cycle = 16, 64\ncore.acc_bits = 32, 96\n");
  const auto off = explore({sweep_, "--out", dir_ + "/off", "--jobs", "2", "--program-cache", "0"});
  ASSERT_EQ(off.exit_code, 0) << off.out << off.err;
  EXPECT_EQ(off.out.find("re-targeted"), std::string::npos) << off.out;
  const auto on = explore({sweep_, "--out", dir_ + "/on", "--jobs", "2", "--cache", dir_ + "/off/cache"});
  ASSERT_EQ(on.exit_code, 0) << on.out << on.err;
  // 3 quantizations x 4 code shapes x 2 layers compiled; the other 3 of each 4 points re-target them.
  EXPECT_NE(on.out.find("programs: 24 layers compiled, 72 re-targeted"), std::string::npos) << on.out;
  for (const char* f : {"results.csv", "results.json", "report.html"})
    EXPECT_EQ(slurp(dir_ + "/off/" + f), slurp(dir_ + "/on/" + f)) << f;
  for (const auto& e : fs::directory_iterator(dir_ + "/off/plots")) {
    if (e.path().extension() == ".png") continue;  // rasters: compared through their .dat and .svg
    EXPECT_EQ(slurp(e.path()), slurp(dir_ + "/on/plots/" + e.path().filename().string())) << e.path();
  }
  const auto json = nlohmann::json::parse(slurp(dir_ + "/on/results.json"));
  ASSERT_EQ(json["points"].size(), 48u);
  int infeasible = 0;
  for (const auto& p : json["points"])
    if (p["status"] == "infeasible") {
      ++infeasible;
      EXPECT_NE(p["detail"].get<std::string>().find("accumulator"), std::string::npos) << p.dump();
    }
  EXPECT_EQ(infeasible, 24);
  EXPECT_EQ(explore({sweep_, "--out", dir_ + "/bad", "--program-cache", "many"}).exit_code, 2);
}

TEST_F(ExploreCli, ARerunResumesWithoutRunningAnyPoint) {
  ASSERT_EQ(explore({sweep_, "--out", dir_ + "/r"}).exit_code, 0);
  const std::string before = slurp(dir_ + "/r/results.csv");
  fs::remove(dir_ + "/r/results.csv");
  // Lose one point as an interrupted run would.
  const auto manifest = nlohmann::json::parse(slurp(dir_ + "/r/manifest.json"));
  fs::remove(dir_ + "/r/points/" + manifest["points"][5]["key"].get<std::string>() + ".json");
  const auto r = explore({sweep_, "--out", dir_ + "/r"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("11 resumed, 1 ran"), std::string::npos) << r.out;
  EXPECT_EQ(slurp(dir_ + "/r/results.csv"), before);
}

TEST_F(ExploreCli, ShardsMergedEqualTheUnshardedRun) {
  ASSERT_EQ(explore({sweep_, "--out", dir_ + "/whole"}).exit_code, 0);
  std::vector<std::string> merge{"explore", "--out", dir_ + "/merged", "--merge"};
  for (int i = 0; i < 3; ++i) {
    const std::string out = dir_ + "/shard" + std::to_string(i);
    const auto r = explore({sweep_, "--out", out, "--shard", std::to_string(i) + "/3", "--cache", dir_ + "/cache"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(lines(slurp(out + "/results.csv")), 1u + 4u);
    merge.push_back(out);
  }
  const auto m = run_lutc(merge);
  ASSERT_EQ(m.exit_code, 0) << m.out << m.err;
  EXPECT_EQ(slurp(dir_ + "/merged/results.csv"), slurp(dir_ + "/whole/results.csv"));
  EXPECT_EQ(slurp(dir_ + "/merged/results.json"), slurp(dir_ + "/whole/results.json"));
  EXPECT_TRUE(fs::exists(dir_ + "/merged/report.html"));

  const auto missing = run_lutc({"explore", "--out", dir_ + "/m2", "--merge", dir_ + "/shard0", dir_ + "/shard2"});
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
  EXPECT_NE(missing.err.find("shard is missing"), std::string::npos) << missing.err;
}

TEST_F(ExploreCli, AnArchTooSmallForTheLayerIsARecordedRowNotAFailure) {
  write(sweep_,
        "[sweep]\nweights = synth:64x256@3\n[quant]\nscheme = xfp.v2\nbits = 4\n"
        "[arch]\nlut.bank_words = 8, 2048\n");
  const auto r = explore({sweep_, "--out", dir_ + "/inf"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto json = nlohmann::json::parse(slurp(dir_ + "/inf/results.json"));
  EXPECT_EQ(json["points"][0]["status"], "infeasible");
  EXPECT_FALSE(json["points"][0]["detail"].get<std::string>().empty());
  EXPECT_EQ(json["points"][1]["status"], "ok");
}

TEST_F(ExploreCli, BadSweepsAndFlagsAreUsageErrors) {
  write(dir_ + "/bad.ini", "[sweep]\nweights = synth:64x64\n[quant]\nscheme = int4.g128\n[arch]\ncore.lane = 8\n");
  auto r = explore({dir_ + "/bad.ini", "--out", dir_ + "/bad"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("core.lane"), std::string::npos) << r.err;
  r = explore({sweep_, "--out", dir_ + "/bad", "--shard", "3/3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(explore({sweep_}).exit_code, 2);  // no --out
}

TEST_F(ExploreCli, OneProcessPerPointAndOnePerLayerAgree) {
  ASSERT_EQ(explore({sweep_, "--out", dir_ + "/step"}).exit_code, 0);
  const auto r = explore({sweep_, "--out", dir_ + "/layer", "--engine-per-layer", "--cache", dir_ + "/step/cache"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto a = nlohmann::json::parse(slurp(dir_ + "/step/results.json"))["points"];
  const auto b = nlohmann::json::parse(slurp(dir_ + "/layer/results.json"))["points"];
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_NE(a[i]["key"], b[i]["key"]);  // the engine mode is part of a point's identity
    for (const char* c : {"cycles_per_token", "energy_pj_per_token", "tokens_per_s", "quality_db"})
      EXPECT_EQ(a[i][c], b[i][c]) << i << " " << c;
  }
}

TEST_F(ExploreCli, RtlCheckRecordsTheCycleDifferenceOnSampledPoints) {
  // The stand-in plays both engines here, so the difference must be exactly 0.
  const auto r = explore({sweep_, "--out", dir_ + "/rtl", "--rtl-check", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto json = nlohmann::json::parse(slurp(dir_ + "/rtl/results.json"));
  int checked = 0;
  for (const auto& p : json["points"]) {
    if (p["rtl_cycles"].is_null()) continue;
    ++checked;
    EXPECT_EQ(p["rtl_cycles"].get<double>(), p["cycles_per_token"].get<double>());
    EXPECT_EQ(p["rtl_cycle_diff_pct"].get<double>(), 0.0);
  }
  EXPECT_EQ(checked, 3);
}

bool lutc_has_sim() { return run_lutc({"--help"}).out.find("\n  sim ") != std::string::npos; }

TEST_F(ExploreCli, RunsOnTheSystemCModel) {
  if (!lutc_has_sim()) {
    const auto r = run_lutc({"explore", sweep_, "--out", dir_ + "/nosim"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("sim"), std::string::npos) << r.err;
    GTEST_SKIP() << "this lutc has no `sim` command yet; explore refuses to run without it (checked)";
  }
  const auto r = run_lutc({"explore", "--quiet", sweep_, "--out", dir_ + "/sc", "--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto json = nlohmann::json::parse(slurp(dir_ + "/sc/results.json"));
  ASSERT_EQ(json["points"].size(), 12u);
  for (const auto& p : json["points"]) {
    ASSERT_EQ(p["status"], "ok") << p.dump();
    EXPECT_EQ(p["engine"], "systemc");
    EXPECT_GT(p["cycles_per_token"].get<double>(), 0);
  }
  // More lanes never make a decode step slower on the model.
  EXPECT_GE(json["points"][2]["tokens_per_s"].get<double>(), json["points"][0]["tokens_per_s"].get<double>() * 0.999);
}

TEST_F(ExploreCli, SharedCompilesOnTheSystemCModelGiveTheSameResults) {
  if (!lutc_has_sim()) GTEST_SKIP() << "this lutc has no `sim` command";
  write(sweep_,
        "[sweep]\nweights = synth:64x256,96x256@3\n[quant]\nscheme = xfp.v2\nbits = 4\n"
        "[arch]\ncore.lanes = 8, 16\ndram.bytes_per_cycle = 2, 64\ncore.clock_mhz = 500, 1000\n");
  const auto off =
      run_lutc({"explore", "--quiet", sweep_, "--out", dir_ + "/off", "--jobs", "2", "--program-cache", "0"});
  ASSERT_EQ(off.exit_code, 0) << off.out << off.err;
  const auto on = run_lutc({"explore", "--quiet", sweep_, "--out", dir_ + "/on", "--jobs", "2"});
  ASSERT_EQ(on.exit_code, 0) << on.out << on.err;
  EXPECT_NE(on.out.find("programs: 4 layers compiled, 12 re-targeted"), std::string::npos) << on.out;
  EXPECT_EQ(slurp(dir_ + "/off/results.csv"), slurp(dir_ + "/on/results.csv"));
  EXPECT_EQ(slurp(dir_ + "/off/results.json"), slurp(dir_ + "/on/results.json"));
  // The timing keys reached the model through the re-targeted programs.
  const auto p = nlohmann::json::parse(slurp(dir_ + "/on/results.json"))["points"];
  EXPECT_NE(p[0]["cycles_per_token"], p[2]["cycles_per_token"]);    // 2 vs 64 bytes per cycle
  EXPECT_NE(p[0]["seconds_per_token"], p[1]["seconds_per_token"]);  // 500 vs 1000 MHz
}

}  // namespace
}  // namespace lutc::testing

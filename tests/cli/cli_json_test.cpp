// --json on quantize, compile, run, gemv, decode, sim and rtl: stdout is one
// JSON document and nothing else (it parses whole), its numbers are the ones
// the human output prints, and the files it lists exist. Also "did you mean"
// for a mistyped scheme, SOP codebook, command and arch file.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "example_inputs.h"
#include "lutc/model/npy.h"
#include "run_lutc.h"
#include "test_data.h"

namespace lutc::testing {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// The whole of stdout as one JSON value (parse throws on anything extra).
json parse_stdout(const RunResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  try {
    return json::parse(r.out);
  } catch (const json::exception& e) {
    ADD_FAILURE() << "stdout is not one JSON document: " << e.what() << "\n" << r.out;
    return json();
  }
}

void expect_files_exist(const json& j) {
  ASSERT_TRUE(j.contains("files_written")) << j.dump();
  ASSERT_FALSE(j["files_written"].empty()) << j.dump();
  for (const auto& f : j["files_written"]) EXPECT_TRUE(fs::exists(f.get<std::string>())) << f;
}

bool has_command(const std::string& name) { return run_lutc({name, "--help"}).exit_code == 0; }

class CliJson : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = fresh_seed();
    dir_ = temp_dir();
    rows_ = 16 + 8 * (seed_ % 5);
    spec_ = "synth:" + std::to_string(rows_) + "x64,24x64@" + std::to_string(seed_ % 100000 + 1);
  }
  uint64_t seed_ = 0, rows_ = 0;
  std::string dir_, spec_;
};

TEST_F(CliJson, QuantizeJsonIsTheReportAndNamesItsFiles) {
  const RunResult r = run_lutc({"quantize", spec_, "--scheme", "xfp.v2", "--bits", "4", "-o", dir_ + "/m.xfp",
                                "--report", dir_ + "/r.json", "-q", "--json"});
  const json j = parse_stdout(r);
  expect_files_exist(j);
  EXPECT_EQ(j["files_written"], json::array({dir_ + "/m.xfp", dir_ + "/r.json"}));
  json report = json::parse(std::ifstream(dir_ + "/r.json"));
  json printed = j;
  printed.erase("files_written");
  EXPECT_EQ(printed, report);  // the same document --report writes
  ASSERT_EQ(j["layers"].size(), 2u);
  EXPECT_EQ(j["layers"][0]["rows"], rows_);
  EXPECT_EQ(j["layers"][0]["scheme"], "xfp.v2");
  // The human table went to stderr, with the same layer names.
  EXPECT_NE(r.err.find(j["layers"][1]["name"].get<std::string>()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("wrote " + dir_ + "/m.xfp"), std::string::npos) << r.err;
}

TEST_F(CliJson, CompileRunGemvAndDecodeJsonMatchTheirHumanOutput) {
  ASSERT_EQ(run_lutc({"quantize", spec_, "--bits", "4", "--scheme", "xfp.v2", "-o", dir_ + "/m.xfp", "-q"}).exit_code,
            0);
  // compile: the table's rows, one per layer, each file written.
  const RunResult human = run_lutc({"compile", dir_ + "/m.xfp", "--arch", example_arch("edge"), "-o", dir_ + "/h"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  const json c = parse_stdout(
      run_lutc({"compile", dir_ + "/m.xfp", "--arch", example_arch("edge"), "-o", dir_ + "/p", "--listing", "--json"}));
  expect_files_exist(c);
  ASSERT_EQ(c["layers"].size(), 2u);
  EXPECT_EQ(c["files_written"].size(), 5u);  // two programs, two listings, programs.json
  EXPECT_EQ(c["arch"], "edge");
  for (const auto& l : c["layers"]) {
    EXPECT_EQ(fs::file_size(l["file"].get<std::string>()), l["program_bytes"].get<uint64_t>()) << l.dump();
    // The human row of this layer names the same byte count.
    const std::string name = l["name"];
    const size_t at = human.out.find(name);
    ASSERT_NE(at, std::string::npos) << human.out;
    const std::string line = human.out.substr(at, human.out.find('\n', at) - at);
    EXPECT_NE(line.find(" " + std::to_string(l["program_bytes"].get<uint64_t>()) + " "), std::string::npos) << line;
  }
  const std::string layer = c["layers"][0]["name"], lutp = c["layers"][0]["file"];
  const uint64_t batch = 1 + seed_ % 4;
  write_random_x(dir_ + "/x.npy", batch, 64, seed_);
  // run: the counts of its one-line summary.
  const RunResult run_h = run_lutc({"run", lutp, "--x", dir_ + "/x.npy", "-o", dir_ + "/y0.npy"});
  ASSERT_EQ(run_h.exit_code, 0) << run_h.err;
  const json run = parse_stdout(run_lutc({"run", lutp, "--x", dir_ + "/x.npy", "-o", dir_ + "/y1.npy", "--json"}));
  expect_files_exist(run);
  EXPECT_EQ(run["batch"], batch);
  EXPECT_EQ(run["layer"], layer);
  EXPECT_NE(run_h.out.find(std::to_string(run["instructions"].get<uint64_t>()) + " instructions, " +
                           std::to_string(run["macs"].get<uint64_t>()) + " MACs"),
            std::string::npos)
      << run_h.out;
  // gemv
  const json g = parse_stdout(run_lutc({"gemv", dir_ + "/m.xfp", "--layer", layer, "--arch", example_arch("edge"),
                                        "--x", dir_ + "/x.npy", "-o", dir_ + "/yg.npy", "--json"}));
  expect_files_exist(g);
  EXPECT_EQ(g["layer"], layer);
  EXPECT_EQ(g["batch"], batch);
  EXPECT_EQ(g["cols"], 64);
  // decode: one entry per tensor of the .xfp.
  const json d = parse_stdout(run_lutc({"decode", dir_ + "/m.xfp", "-o", dir_ + "/d.safetensors", "--json"}));
  expect_files_exist(d);
  ASSERT_EQ(d["tensors"].size(), 2u);
  EXPECT_EQ(d["tensors"][0]["dtype"], "F32");
  EXPECT_EQ(d["tensors"][0]["shape"], json::array({rows_, 64}));
  EXPECT_EQ(d["tensors"][0]["from"], "decoded");
}

TEST_F(CliJson, SimAndRtlJsonAreTheirStatsReports) {
  const bool sim = has_command("sim"), rtl = has_command("rtl");
  if (!sim && !rtl) GTEST_SKIP() << "this lutc has neither `sim` nor `rtl`";
  ASSERT_EQ(run_lutc({"quantize", spec_, "--scheme", "xfp.v2", "--bits", "4", "-o", dir_ + "/m.xfp", "-q"}).exit_code,
            0);
  ASSERT_EQ(run_lutc({"compile", dir_ + "/m.xfp", "--arch", example_arch("edge"), "-o", dir_ + "/p"}).exit_code, 0);
  write_random_x(dir_ + "/x.npy", 1, 64, seed_);
  std::vector<std::string> programs;
  for (const auto& e : fs::directory_iterator(dir_ + "/p"))
    if (e.path().extension() == ".lutp") programs.push_back(e.path().string());  // not programs.json
  std::sort(programs.begin(), programs.end());
  if (sim) {
    const RunResult r = run_lutc({"sim", dir_ + "/p", "--report", dir_ + "/s.json", "--json"});
    const json j = parse_stdout(r);
    expect_files_exist(j);
    json report = json::parse(std::ifstream(dir_ + "/s.json"));
    json printed = j;
    printed.erase("files_written");
    EXPECT_EQ(printed, report);
    ASSERT_EQ(j["layers"].size(), 2u);
    EXPECT_NE(r.err.find(std::to_string(j["cycles"].get<uint64_t>()) + " cycles"), std::string::npos) << r.err;
  }
  if (rtl) {
    const RunResult r = run_lutc({"rtl", programs[0], "--x", dir_ + "/x.npy", "-o", dir_ + "/yr.npy", "--json"});
    const json j = parse_stdout(r);
    expect_files_exist(j);
    EXPECT_GT(j["cycles"].get<uint64_t>(), 0u);
    EXPECT_NE(r.err.find(std::to_string(j["cycles"].get<uint64_t>()) + " cycles"), std::string::npos) << r.err;
  }
}

TEST_F(CliJson, AFailedRunPrintsNoJson) {
  const RunResult r = run_lutc({"decode", dir_ + "/missing.xfp", "-o", dir_ + "/d.safetensors", "--json"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("missing.xfp"), std::string::npos) << r.err;
}

TEST(CliDidYouMean, MistypedNamesGetTheClosestKnownOne) {
  const std::string dir = temp_dir();
  RunResult r = run_lutc({"quantize", "synth:16x64", "--scheme", "xfp.v3", "-o", dir + "/m.xfp"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("did you mean 'xfp.v2'"), std::string::npos) << r.err;
  // Refused before any work: no progress line precedes the message.
  EXPECT_EQ(r.err.find("quantize "), std::string::npos) << r.err;
  r = run_lutc({"quantize", "synth:16x64", "--scheme", "sop", "--sop-format", "nf5.ue4m4.b16", "-o", dir + "/m.xfp"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("did you mean 'nf4'"), std::string::npos) << r.err;
  r = run_lutc({"quantise", "synth:16x64"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("did you mean 'quantize'"), std::string::npos) << r.err;
  ASSERT_EQ(run_lutc({"quantize", "synth:16x64", "--bits", "4", "-o", dir + "/m.xfp", "-q"}).exit_code, 0);
  r = run_lutc({"compile", dir + "/m.xfp", "--arch", example_arch("egde"), "-o", dir + "/m.lutp"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("did you mean '" + example_arch("edge") + "'"), std::string::npos) << r.err;
  r = run_lutc({"quantize", "synth:16x64", "--scheme", "llama", "-o", dir + "/m.xfp"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.find("did you mean"), std::string::npos) << r.err;  // nothing close: no guess
}

}  // namespace
}  // namespace lutc::testing

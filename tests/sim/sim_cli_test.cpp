// `lutc sim` end to end: y equals `lutc run`, the report carries every key of
// the stats schema, the trace has a track per unit, a directory is a decode
// step whose cycles are the layers' sum, and bad input leaves no output.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "compiler_test_layers.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/engine_stats.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/npy.h"
#include "lutc/model/xfp_file.h"
#include "run_lutc.h"
#include "sim_test_support.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace testing;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A compiled random layer in dir/name.lutp.
std::string write_program(const std::string& dir, const std::string& name, Scheme scheme, uint32_t rows, uint32_t cols,
                          std::mt19937_64& rng) {
  const std::vector<float> w = random_weights(rows, cols, rng);
  const QuantizedLayer l = quantize_for_test(scheme, name, w.data(), rows, cols);
  const std::string path = dir + "/" + name + ".lutp";
  write_lutp(path, compile_layer(l, default_arch()));
  return path;
}

TEST(SimCli, FunctionalRunMatchesLutcRunAndReportHasEverySchemaKey) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = temp_dir();
  const std::string prog = write_program(dir, "layer", Scheme::kInt4G128, 100, 384, rng);
  const std::vector<float> x = random_activations(3, 384, rng);
  write_npy(dir + "/x.npy", {3, 384}, x.data());
  const RunResult sim = run_lutc({"sim", prog, "--x", dir + "/x.npy", "-o", dir + "/y_sim.npy", "--report",
                                  dir + "/r.json", "--trace", dir + "/t.json"});
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  const RunResult run = run_lutc({"run", prog, "--x", dir + "/x.npy", "-o", dir + "/y_run.npy"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const NpyArray ys = read_npy(dir + "/y_sim.npy"), yr = read_npy(dir + "/y_run.npy");
  ASSERT_EQ(ys.shape, yr.shape);
  for (size_t i = 0; i < ys.data.size(); ++i) ASSERT_EQ(float_bits(ys.data[i]), float_bits(yr.data[i])) << i;

  const nlohmann::json j = nlohmann::json::parse(slurp(dir + "/r.json"));
  for (const char* k : {"engine", "layer", "arch", "arch_hash", "rows", "cols", "batch", "cycles", "seconds",
                        "tokens_per_s", "dram_bytes_per_s", "dram_bw_fraction", "bottleneck", "units", "actions",
                        "energy_pj", "energy_total_pj", "pj_per_weight"})
    EXPECT_TRUE(j.contains(k)) << k;
  for (const char* u : kEngineUnits)
    for (const char* f : {"busy_cycles", "stall_cycles", "utilization"})
      EXPECT_TRUE(j["units"][u].contains(f)) << u << f;
  for (const char* a : {"dram_bytes", "weight_sram_write_bytes", "weight_sram_read_bytes", "act_sram_write_bytes",
                        "act_sram_read_bytes", "lut_writes", "lut_reads", "multiplies", "acc_adds", "outlier_ops",
                        "output_words", "instructions", "bank_conflict_cycles"})
    EXPECT_TRUE(j["actions"].contains(a)) << a;
  for (const char* e : {"dram", "sram", "lut", "multiply", "accumulate", "outlier", "control", "leakage"})
    EXPECT_TRUE(j["energy_pj"].contains(e)) << e;
  const EngineStats s = stats_from_json(j);
  EXPECT_EQ(s.engine, "systemc");
  EXPECT_EQ(s.batch, 3u);
  EXPECT_EQ(s.actions.multiplies, uint64_t(100) * 384 * 3);

  const nlohmann::json t = nlohmann::json::parse(slurp(dir + "/t.json"));
  std::set<std::string> tracks;
  size_t slices = 0;
  for (const auto& e : t.at("traceEvents")) {
    if (e.at("ph") == "M" && e.at("name") == "thread_name") tracks.insert(e.at("args").at("name").get<std::string>());
    if (e.at("ph") == "X") ++slices;
  }
  for (const char* u : kEngineUnits) EXPECT_TRUE(tracks.count(u)) << u;
  EXPECT_GT(slices, 10u);
}

TEST(SimCli, DirectoryIsADecodeStepSummedOverLayers) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = temp_dir() + "/model";
  std::filesystem::create_directories(dir);
  write_program(dir, "blk.0.q", Scheme::kXfpV2, 64, 256, rng);
  write_program(dir, "blk.0.up", Scheme::kNf4B64, 160, 256, rng);
  write_program(dir, "blk.0.down", Scheme::kFp8E4M3, 64, 160, rng);
  const std::string report = temp_dir() + "/step.json";
  const RunResult r = run_lutc({"sim", dir, "--report", report});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("blk.0.up"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("total"), std::string::npos) << r.out;
  const nlohmann::json j = nlohmann::json::parse(slurp(report));
  ASSERT_EQ(j.at("layers").size(), 3u);
  uint64_t cycles = 0, dram = 0;
  for (const auto& l : j.at("layers")) {
    cycles += l.at("cycles").get<uint64_t>();
    dram += l.at("actions").at("dram_bytes").get<uint64_t>();
  }
  EXPECT_EQ(j.at("cycles").get<uint64_t>(), cycles);
  EXPECT_EQ(j.at("actions").at("dram_bytes").get<uint64_t>(), dram);
}

TEST(SimCli, BadInputFailsCleanlyWithoutOutputs) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = temp_dir();
  const std::string prog = write_program(dir, "l", Scheme::kXfpV2a, 16, 128, rng);
  std::vector<float> x(100, 1.0f);  // wrong length
  write_npy(dir + "/x.npy", {100}, x.data());
  RunResult r = run_lutc({"sim", prog, "--x", dir + "/x.npy", "-o", dir + "/y.npy", "--report", dir + "/r.json"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("columns"), std::string::npos) << r.err;
  std::string bytes = slurp(prog);
  bytes[bytes.size() / 2] ^= 0x55;
  std::ofstream(dir + "/bad.lutp", std::ios::binary) << bytes;
  r = run_lutc({"sim", dir + "/bad.lutp", "--report", dir + "/r.json"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  r = run_lutc({"sim", prog, "-o", dir + "/y.npy"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  for (const std::string& f : files_in(dir)) EXPECT_TRUE(f == "l.lutp" || f == "x.npy" || f == "bad.lutp") << f;
}

// `lutc compile` of a multi-layer .xfp, then `lutc sim DIR`: the layers run in
// the .xfp's order (not by file name), their names are printed whole, and the
// arch is named by its .ini, not "embedded arch".
TEST(SimCli, CompiledDirectoryRunsInModelOrderWithFullNamesAndTheArchName) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = temp_dir();
  XfpFile f;
  // Reverse alphabetical, longer than the old 32-character column.
  const std::vector<std::string> names = {"model.layers.0.self_attn.zz_long_projection_name.weight",
                                          "model.layers.0.mlp.middle_projection_with_a_long_name.weight",
                                          "model.layers.0.aa_first_by_name_but_last_in_the_model.weight"};
  for (const std::string& n : names) {
    const uint32_t rows = 16 + 16 * uint32_t(rng() % 4), cols = 128 * (1 + uint32_t(rng() % 2));
    const std::vector<float> w = random_weights(rows, cols, rng);
    f.layers.push_back(quantize_for_test(Scheme::kInt4G128, n, w.data(), rows, cols));
  }
  write_xfp(dir + "/m.xfp", f);
  const std::string arch_name = "tiny-engine-" + std::to_string(rng() % 1000);
  std::ofstream(dir + "/" + arch_name + ".ini") << "[core]\nlanes = " << (4 << (rng() % 3)) << "\n";
  RunResult r = run_lutc({"compile", dir + "/m.xfp", "--arch", dir + "/" + arch_name + ".ini", "-o", dir + "/progs"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_lutc({"sim", dir + "/progs", "--report", dir + "/step.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("arch: " + arch_name), std::string::npos) << r.out;
  size_t at = 0;
  for (const std::string& n : names) {
    const size_t found = r.out.find(n, at);
    ASSERT_NE(found, std::string::npos) << n << " missing, cut or out of model order:\n" << r.out;
    at = found + n.size();
  }
  const nlohmann::json j = nlohmann::json::parse(slurp(dir + "/step.json"));
  EXPECT_EQ(j.at("arch"), arch_name);
  ASSERT_EQ(j.at("layers").size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(j["layers"][i].at("layer"), names[i]);
  // One program of the directory alone: the manifest beside it still names the arch.
  r = run_lutc({"sim", dir + "/progs/" + names[1] + ".lutp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("arch: " + arch_name), std::string::npos) << r.out;
}

// The Perfetto trace: slices on one track never overlap (a unit busy with two
// things at once gets a second track) and cycle arguments are whole numbers.
TEST(SimCli, TraceSlicesNeverOverlapOnATrackAndCyclesAreWhole) {
  std::mt19937_64 rng(fresh_seed());
  const std::string dir = temp_dir() + "/model";
  std::filesystem::create_directories(dir);
  const Scheme schemes[] = {Scheme::kXfpV2, Scheme::kNf4B64, Scheme::kInt4G128, Scheme::kFp8E4M3};
  for (int i = 0; i < 3; ++i)
    write_program(dir, "l" + std::to_string(i), schemes[rng() % 4], 32 + 32 * uint32_t(rng() % 4),
                  128 * (1 + uint32_t(rng() % 3)), rng);
  const std::string trace = temp_dir() + "/t.json";
  const RunResult r = run_lutc({"sim", dir, "--batch", std::to_string(1 + rng() % 4), "--trace", trace});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json t = nlohmann::json::parse(slurp(trace));
  std::map<int, std::vector<std::pair<int64_t, int64_t>>> by_track;
  std::set<std::string> tracks;
  for (const auto& e : t.at("traceEvents")) {
    if (e.at("ph") == "M" && e.at("name") == "thread_name") tracks.insert(e.at("args").at("name").get<std::string>());
    if (e.at("ph") != "X") continue;
    const auto& a = e.at("args");
    ASSERT_TRUE(a.at("start_cycle").is_number_integer()) << e.dump();
    ASSERT_TRUE(a.at("cycles").is_number_integer()) << e.dump();
    const int64_t start = a.at("start_cycle").get<int64_t>(), cycles = a.at("cycles").get<int64_t>();
    ASSERT_GE(cycles, 0) << e.dump();
    by_track[e.at("tid").get<int>()].push_back({start, start + cycles});
  }
  for (const char* u : kEngineUnits) EXPECT_TRUE(tracks.count(u)) << u;
  size_t slices = 0;
  for (auto& [tid, spans] : by_track) {
    std::sort(spans.begin(), spans.end());
    slices += spans.size();
    for (size_t i = 1; i < spans.size(); ++i)
      ASSERT_LE(spans[i - 1].second, spans[i].first)
          << "track " << tid << ": slice " << i - 1 << " overlaps slice " << i;
  }
  EXPECT_GT(slices, 10u);
}

}  // namespace
}  // namespace lutc

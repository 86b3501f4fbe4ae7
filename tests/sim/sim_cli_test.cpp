// `lutc sim` end to end: y equals `lutc run`, the report carries every key of
// the stats schema, the trace has a track per unit, a directory is a decode
// step whose cycles are the layers' sum, and bad input leaves no output.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "compiler_test_layers.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/engine_stats.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/npy.h"
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
std::string write_program(const std::string& dir, const std::string& name, Scheme scheme, uint32_t rows,
                          uint32_t cols, std::mt19937_64& rng) {
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
    for (const char* f : {"busy_cycles", "stall_cycles", "utilization"}) EXPECT_TRUE(j["units"][u].contains(f)) << u << f;
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

}  // namespace
}  // namespace lutc

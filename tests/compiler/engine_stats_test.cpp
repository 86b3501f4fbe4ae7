// EngineStats: the derived figures finish() fills (docs/stats.md), the
// bottleneck rule, and the JSON form read back key by key. energy_of's own
// table is held to the docs in energy_of_test.
#include "lutc/compiler/engine_stats.h"

#include <gtest/gtest.h>

#include <iterator>
#include <random>
#include <string>

#include "lutc/model/error.h"
#include "test_data.h"

namespace lutc {
namespace {

EngineStats random_stats(std::mt19937_64& rng) {
  EngineStats s;
  s.engine = rng() % 2 ? "systemc" : "rtl";
  s.layer = "blk." + std::to_string(rng() % 32) + ".attn_q";
  s.arch = "edge";
  s.arch_hash = rng();
  s.rows = 1 + uint32_t(rng() % 4096);
  s.cols = 1 + uint32_t(rng() % 4096);
  s.batch = 1 + uint32_t(rng() % 8);
  s.cycles = 1 + rng() % 1000000;
  for (const char* u : kEngineUnits) s.units[u] = {rng() % s.cycles, rng() % 1000};
#define LUTC_RANDOM_COUNT(name) s.actions.name = rng() % 100000000;
  LUTC_ACTION_COUNTS(LUTC_RANDOM_COUNT)
#undef LUTC_RANDOM_COUNT
  return s;
}

TEST(EngineStats, FinishDerivesRatesFromCyclesAndTheArch) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 50; ++trial) {
    ArchConfig a = default_arch();
    a.clock_mhz = 100 + double(rng() % 2000);
    a.dram_bytes_per_cycle = 1 + double(rng() % 256);
    EngineStats s = random_stats(rng);
    s.finish(a);
    const double seconds = double(s.cycles) / (a.clock_mhz * 1e6);
    EXPECT_DOUBLE_EQ(s.seconds, seconds);
    EXPECT_DOUBLE_EQ(s.tokens_per_s, 1 / seconds);
    EXPECT_DOUBLE_EQ(s.dram_bytes_per_s, double(s.actions.dram_bytes) / seconds);
    // Bytes per second over the peak is bytes per cycle over bytes per cycle.
    EXPECT_NEAR(s.dram_bw_fraction, double(s.actions.dram_bytes) / double(s.cycles) / a.dram_bytes_per_cycle,
                1e-12 * (1 + s.dram_bw_fraction));
    const EnergyBreakdown e = energy_of(a, s.actions, s.cycles);
    EXPECT_DOUBLE_EQ(s.energy.total_pj, e.total_pj);
    EXPECT_EQ(s.energy.pj, e.pj);
    EXPECT_DOUBLE_EQ(s.pj_per_weight, e.total_pj / (double(s.rows) * s.cols));
  }
}

TEST(EngineStats, FinishWithNothingRunIsZeroNotInfinite) {
  EngineStats s;
  s.finish(default_arch());
  EXPECT_EQ(s.seconds, 0.0);
  EXPECT_EQ(s.tokens_per_s, 0.0);
  EXPECT_EQ(s.dram_bytes_per_s, 0.0);
  EXPECT_EQ(s.dram_bw_fraction, 0.0);
  EXPECT_EQ(s.pj_per_weight, 0.0) << "no weights: no per-weight energy";
  EXPECT_EQ(s.bottleneck, "");
}

TEST(EngineStats, BottleneckIsTheBusiestUnitOfItsOwnWork) {
  EngineStats s;
  s.rows = s.cols = 1;
  s.cycles = 100;
  // The SRAMs and the accumulator are busy with their users; they never lead.
  s.units["weight_sram"] = {99, 0};
  s.units["accumulator"] = {99, 0};
  s.units["lanes"] = {40, 0};
  s.units["dma"] = {60, 0};
  s.finish(default_arch());
  EXPECT_EQ(s.bottleneck, "dma");
  // A tie goes to the first in kEngineUnits order: dma comes before lanes.
  s.units["lanes"] = {60, 0};
  s.finish(default_arch());
  EXPECT_EQ(s.bottleneck, "dma");
  s.units["writeback"] = {61, 0};
  s.finish(default_arch());
  EXPECT_EQ(s.bottleneck, "writeback");
  // Units of their own work, as docs/stats.md lists them.
  size_t own = 0;
  for (size_t u = 0; u < std::size(kEngineUnits); ++u) own += kEngineUnitOwnWork[u];
  EXPECT_EQ(own, 6u);
  EXPECT_EQ(bottleneck_of([](const char*) { return uint64_t(0); }), "");
}

TEST(EngineStats, JsonReadsBackEveryField) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  EngineStats s = random_stats(rng);
  s.finish(default_arch());
  const nlohmann::json j = to_json(s);
  // Through text, as a report file is read.
  const EngineStats b = stats_from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(b.engine, s.engine);
  EXPECT_EQ(b.layer, s.layer);
  EXPECT_EQ(b.arch, s.arch);
  EXPECT_EQ(b.arch_hash, s.arch_hash);
  EXPECT_EQ(b.rows, s.rows);
  EXPECT_EQ(b.cols, s.cols);
  EXPECT_EQ(b.batch, s.batch);
  EXPECT_EQ(b.cycles, s.cycles);
  EXPECT_DOUBLE_EQ(b.seconds, s.seconds);
  EXPECT_DOUBLE_EQ(b.tokens_per_s, s.tokens_per_s);
  EXPECT_DOUBLE_EQ(b.dram_bw_fraction, s.dram_bw_fraction);
  EXPECT_EQ(b.bottleneck, s.bottleneck);
  ASSERT_EQ(b.units.size(), s.units.size());
  for (const auto& [name, t] : s.units) {
    EXPECT_EQ(b.units.at(name).busy_cycles, t.busy_cycles) << name;
    EXPECT_EQ(b.units.at(name).stall_cycles, t.stall_cycles) << name;
    EXPECT_DOUBLE_EQ(j["units"][name]["utilization"].get<double>(), double(t.busy_cycles) / double(s.cycles));
  }
#define LUTC_SAME_COUNT(name) EXPECT_EQ(b.actions.name, s.actions.name) << #name;
  LUTC_ACTION_COUNTS(LUTC_SAME_COUNT)
#undef LUTC_SAME_COUNT
  ASSERT_EQ(b.energy.pj.size(), s.energy.pj.size());
  for (const auto& [k, v] : s.energy.pj) EXPECT_DOUBLE_EQ(b.energy.pj.at(k), v) << k;
  EXPECT_DOUBLE_EQ(b.energy.total_pj, s.energy.total_pj);
  EXPECT_DOUBLE_EQ(b.pj_per_weight, s.pj_per_weight);
}

TEST(EngineStats, MissingOrMistypedKeysAreBadInput) {
  std::mt19937_64 rng(testing::fresh_seed());
  EngineStats s = random_stats(rng);
  s.finish(default_arch());
  const nlohmann::json good = to_json(s);
  auto refused = [](const nlohmann::json& j, const std::string& what) {
    try {
      stats_from_json(j);
      ADD_FAILURE() << "accepted: " << what;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput) << what;
      EXPECT_EQ(std::string(e.what()).rfind("stats JSON: ", 0), 0u) << e.what();
    }
  };
  for (const auto& [key, value] : good.items()) {
    nlohmann::json j = good;
    j.erase(key);
    refused(j, "without " + key);
  }
  nlohmann::json j = good;
  j["actions"].erase("lut_reads");
  refused(j, "without actions.lut_reads");
  j = good;
  j["units"]["lanes"].erase("stall_cycles");
  refused(j, "without units.lanes.stall_cycles");
  j = good;
  j["cycles"] = "many";
  refused(j, "cycles as a string");
  refused(nlohmann::json::array(), "an array");
}

}  // namespace
}  // namespace lutc

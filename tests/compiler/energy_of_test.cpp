// energy_of (engine_stats.h) held directly to docs/arch.md "Energy table":
// each action lands in the one part the docs give it, every part is linear
// in the counts, node_scale scales every on-chip part and not DRAM, and SRAM
// reads cost the table's reference points at 8 KiB, 32 KiB and 1 MiB.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "lutc/compiler/engine_stats.h"
#include "test_data.h"

namespace lutc {
namespace {

// Written from docs/arch.md and docs/stats.md, not from engine_stats.cpp.
const std::map<std::string, std::string> kPartOf = {
    {"dram_bytes", "dram"},
    {"weight_sram_write_bytes", "sram"},
    {"weight_sram_read_bytes", "sram"},
    {"act_sram_write_bytes", "sram"},
    {"act_sram_read_bytes", "sram"},
    {"lut_writes", "lut"},
    {"lut_reads", "lut"},
    {"multiplies", "multiply"},
    {"acc_adds", "accumulate"},
    {"outlier_ops", "outlier"},
    {"output_words", "control"},
    {"instructions", "control"},
    {"bank_conflict_cycles", ""},  // cycles, charged through leakage only
};

ArchConfig random_arch(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> pj(0.05, 50);
  ArchConfig a;
  EnergyTable& e = a.energy;
  for (double* v :
       {&e.dram_byte_pj, &e.sram_read_64b_8kib_pj, &e.sram_read_64b_32kib_pj, &e.sram_read_64b_1mib_pj, &e.lut_read_pj,
        &e.mult_8b_pj, &e.mult_16b_pj, &e.add_32b_pj, &e.acc_add_pj, &e.outlier_op_pj, &e.leakage_pj_per_cycle})
    *v = pj(rng);
  e.sram_write_factor = std::uniform_real_distribution<double>(0.5, 2)(rng);
  e.node_scale = std::uniform_real_distribution<double>(0.1, 2)(rng);
  a.act_bits = rng() % 2 ? 8 : 16;
  a.weight_sram_kib = uint32_t(1 + rng() % 4096);
  a.act_sram_kib = uint32_t(1 + rng() % 4096);
  return a;
}

// Every action field, by name, for building counts one field at a time.
std::map<std::string, uint64_t*> fields_of(ActionCounts& c) {
  std::map<std::string, uint64_t*> f;
#define LUTC_FIELD_OF(name) f[#name] = &c.name;
  LUTC_ACTION_COUNTS(LUTC_FIELD_OF)
#undef LUTC_FIELD_OF
  return f;
}

TEST(EnergyOf, EachActionLandsInItsDocumentedPartLinearly) {
  std::mt19937_64 rng(testing::fresh_seed());
  for (int trial = 0; trial < 20; ++trial) {
    const ArchConfig a = random_arch(rng);
    ActionCounts probe;
    ASSERT_EQ(fields_of(probe).size(), kPartOf.size()) << "an action without a documented part in this test";
    for (const auto& [name, part] : kPartOf) {
      ActionCounts one, two;
      const uint64_t n = 1 + rng() % 100000;
      *fields_of(one).at(name) = n;
      *fields_of(two).at(name) = 2 * n;
      const EnergyBreakdown e1 = energy_of(a, one, 0), e2 = energy_of(a, two, 0);
      double sum = 0;
      for (const auto& [p, v] : e1.pj) {
        sum += v;
        if (p == part) {
          EXPECT_GT(v, 0) << name;
          EXPECT_NEAR(e2.pj.at(p), 2 * v, 1e-9 * v) << name;
        } else {
          EXPECT_EQ(v, 0) << name << " leaks into " << p;
        }
      }
      EXPECT_NEAR(e1.total_pj, sum, 1e-9 * sum) << name;
    }
    // Cycles cost leakage only.
    const EnergyBreakdown idle = energy_of(a, ActionCounts{}, 1000);
    EXPECT_NEAR(idle.pj.at("leakage"), 1000 * a.energy.leakage_pj_per_cycle * a.energy.node_scale, 1e-6);
    EXPECT_NEAR(idle.total_pj, idle.pj.at("leakage"), 1e-6);
  }
}

TEST(EnergyOf, NodeScaleScalesOnChipPartsNotDram) {
  std::mt19937_64 rng(testing::fresh_seed());
  ArchConfig a = random_arch(rng);
  ActionCounts c;
  for (auto& [name, v] : fields_of(c)) *v = 1 + rng() % 1000;
  const EnergyBreakdown base = energy_of(a, c, 500);
  a.energy.node_scale *= 3;
  const EnergyBreakdown scaled = energy_of(a, c, 500);
  for (const auto& [p, v] : base.pj) {
    if (p == "dram") {
      EXPECT_DOUBLE_EQ(scaled.pj.at(p), v);
    } else {
      EXPECT_NEAR(scaled.pj.at(p), 3 * v, 1e-9 * v) << p;
    }
  }
}

TEST(EnergyOf, SramReadsCostTheTablesReferencePoints) {
  ArchConfig a;  // the default table
  const EnergyTable& e = a.energy;
  ActionCounts c;
  c.weight_sram_read_bytes = 8;  // one 64-bit read
  const std::pair<uint32_t, double> points[] = {
      {8, e.sram_read_64b_8kib_pj},     {32, e.sram_read_64b_32kib_pj},
      {1024, e.sram_read_64b_1mib_pj},  {4, e.sram_read_64b_8kib_pj},  // below the smallest point: its value
      {65536, e.sram_read_64b_1mib_pj},                                // beyond the largest: its value
  };
  for (const auto& [kib, pj] : points) {
    a.weight_sram_kib = kib;
    EXPECT_NEAR(energy_of(a, c, 0).pj.at("sram"), pj * e.node_scale, 1e-9) << kib << " KiB";
  }
  // Between points the cost rises with size.
  a.weight_sram_kib = 16;
  const double mid = energy_of(a, c, 0).pj.at("sram");
  EXPECT_GT(mid, e.sram_read_64b_8kib_pj);
  EXPECT_LT(mid, e.sram_read_64b_32kib_pj);
}

// The parts energy_of fills are exactly kEnergyParts, the list explore's
// columns and plots read (docs/stats.md names the same eight).
TEST(EnergyOf, FillsExactlyTheListedParts) {
  std::mt19937_64 rng(testing::fresh_seed());
  ActionCounts c;
  for (auto& [name, field] : fields_of(c)) *field = 1 + rng() % 1000;
  const EnergyBreakdown b = energy_of(random_arch(rng), c, 1 + rng() % 1000);
  std::vector<std::string> keys;
  for (const auto& kv : b.pj) keys.push_back(kv.first);
  std::vector<std::string> listed(std::begin(kEnergyParts), std::end(kEnergyParts));
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(keys, listed);
  EXPECT_EQ(listed, (std::vector<std::string>{"accumulate", "control", "dram", "leakage", "lut", "multiply", "outlier",
                                              "sram"}));
}

// Bytes over seconds against dram.bytes_per_cycle at the clock, computed here
// from docs/stats.md's definition.
TEST(DramBwFraction, IsBytesPerSecondOverThePeak) {
  std::mt19937_64 rng(testing::fresh_seed());
  for (int trial = 0; trial < 50; ++trial) {
    ArchConfig a;
    a.dram_bytes_per_cycle = double(1 + rng() % 512);
    a.clock_mhz = double(100 + rng() % 2000);
    const double bytes = double(rng() % (uint64_t(1) << 40)), seconds = 1e-6 * double(1 + rng() % 1000000);
    const double want = bytes / (seconds * a.dram_bytes_per_cycle * a.clock_mhz * 1e6);
    EXPECT_NEAR(dram_bw_fraction(a, bytes, seconds), want, 1e-12 * want);
  }
  ArchConfig a;
  EXPECT_EQ(dram_bw_fraction(a, 1e6, 0), 0);
  EXPECT_EQ(dram_bw_fraction(a, 0, 1), 0);
}

}  // namespace
}  // namespace lutc

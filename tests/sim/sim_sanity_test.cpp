// The cycle model responds to the hardware the way it must: DRAM bandwidth
// decides a memory-bound layer, lanes a compute-bound one, LUT ports a layer
// whose books collide in one bank; energy is the action counts times the
// arch's table. Each TEST elaborates its engines once, side by side.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "compiler_test_layers.h"
#include "sim_test_support.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace testing;

QuantizedLayer layer_for(Scheme scheme, uint32_t rows, uint32_t cols) {
  std::mt19937_64 rng(fresh_seed());
  const std::vector<float> w = random_weights(rows, cols, rng);
  return quantize_for_test(scheme, "sanity", w.data(), rows, cols);
}

// Cycles of the same layer on each arch (timing-only runs).
std::vector<sim::SimResult> run_on(const QuantizedLayer& l, const std::vector<ArchConfig>& archs) {
  std::vector<sim::SimJob> jobs;
  for (const ArchConfig& a : archs) jobs.push_back(job_of(a, {layer_of(compile_for(l, a))}));
  return simulate_jobs(std::move(jobs));
}

TEST(SimSanity, DoublingDramBandwidthHalvesAMemoryBoundLayer) {
  // 64 lanes, a bank per lane's book (xfp.v2, whole-row books): the lanes eat
  // 32 B of indices per cycle, DRAM gives 4 or 8.
  const QuantizedLayer l = layer_for(Scheme::kXfpV2, 512, 1024);
  const std::vector<std::string> base = {"core.lanes=64", "lut.banks=64", "lut.bank_words=512"};
  auto with = [&](const std::string& bw) {
    auto o = base;
    o.push_back(bw);
    return arch_with(o);
  };
  const auto r = run_on(l, {with("dram.bytes_per_cycle=4"), with("dram.bytes_per_cycle=8")});
  EXPECT_EQ(r[0].total.bottleneck, "dma");
  EXPECT_EQ(r[1].total.bottleneck, "dma");
  const double ratio = double(r[1].total.cycles) / double(r[0].total.cycles);
  EXPECT_GT(ratio, 0.45);
  EXPECT_LT(ratio, 0.56) << r[0].total.cycles << " -> " << r[1].total.cycles;
  EXPECT_GT(r[0].total.dram_bw_fraction, 0.85);
}

// Refresh takes the channel for dram.refresh_overhead of the time: a memory-
// bound layer at 8 B/cycle with half the time lost runs exactly as at 4 B/cycle
// without refresh, and a quarter lost costs about a third more cycles.
TEST(SimSanity, RefreshOverheadSlowsAMemoryBoundLayerAsLessBandwidthWould) {
  const QuantizedLayer l = layer_for(Scheme::kXfpV2, 512, 1024);
  const std::vector<std::string> base = {"core.lanes=64", "lut.banks=64", "lut.bank_words=512"};
  auto with = [&](std::vector<std::string> extra) {
    auto o = base;
    o.insert(o.end(), extra.begin(), extra.end());
    return arch_with(o);
  };
  const auto r =
      run_on(l, {with({"dram.bytes_per_cycle=8", "dram.refresh_overhead=0.5"}), with({"dram.bytes_per_cycle=4"}),
                 with({"dram.bytes_per_cycle=8"}), with({"dram.bytes_per_cycle=8", "dram.refresh_overhead=0.25"})});
  EXPECT_EQ(r[0].total.bottleneck, "dma");
  EXPECT_EQ(r[0].total.cycles, r[1].total.cycles);
  const double ratio = double(r[3].total.cycles) / double(r[2].total.cycles);
  EXPECT_GT(ratio, 1.25);
  EXPECT_LT(ratio, 1.40) << r[2].total.cycles << " -> " << r[3].total.cycles;
  // The achieved bandwidth is still reported against dram.bytes_per_cycle.
  EXPECT_LT(r[0].total.dram_bw_fraction, 0.55);
  EXPECT_GT(r[1].total.dram_bw_fraction, 0.85);
}

TEST(SimSanity, DoublingLanesHalvesAComputeBoundLayer) {
  const QuantizedLayer l = layer_for(Scheme::kXfpV2, 512, 1024);
  const std::vector<std::string> base = {"lut.banks=64", "lut.bank_words=512", "dram.bytes_per_cycle=1024"};
  auto with = [&](const std::string& lanes) {
    auto o = base;
    o.push_back(lanes);
    return arch_with(o);
  };
  const auto r = run_on(l, {with("core.lanes=16"), with("core.lanes=32")});
  for (const auto& x : r)
    EXPECT_TRUE(x.total.bottleneck == "lanes" || x.total.bottleneck == "lut") << x.total.bottleneck;
  const double ratio = double(r[1].total.cycles) / double(r[0].total.cycles);
  EXPECT_GT(ratio, 0.45);
  EXPECT_LT(ratio, 0.56) << r[0].total.cycles << " -> " << r[1].total.cycles;
  EXPECT_EQ(r[0].total.actions.bank_conflict_cycles, 0u);
}

TEST(SimSanity, HalvingLutPortsSlowsCollidingBooksOnly) {
  // nf4.b64 has one book: every lane reads the same bank. xfp.v2 with a bank
  // per lane's book does not collide, so its cycles do not depend on ports.
  const QuantizedLayer nf4 = layer_for(Scheme::kNf4B64, 256, 512);
  const QuantizedLayer v2 = layer_for(Scheme::kXfpV2, 256, 512);
  const std::vector<std::string> base = {"core.lanes=8", "lut.banks=16", "dram.bytes_per_cycle=1024"};
  auto with = [&](const std::string& ports) {
    auto o = base;
    o.push_back(ports);
    return arch_with(o);
  };
  const ArchConfig two = with("lut.ports=2"), one = with("lut.ports=1");
  std::vector<sim::SimJob> jobs;
  for (const QuantizedLayer* l : {&nf4, &v2})
    for (const ArchConfig* a : {&two, &one}) jobs.push_back(job_of(*a, {layer_of(compile_for(*l, *a))}));
  const auto r = simulate_jobs(std::move(jobs));
  EXPECT_GT(r[1].total.cycles, r[0].total.cycles * 17 / 10) << r[0].total.cycles << " -> " << r[1].total.cycles;
  EXPECT_GT(r[1].total.actions.bank_conflict_cycles, r[0].total.actions.bank_conflict_cycles);
  EXPECT_EQ(r[1].total.bottleneck, "lut");
  EXPECT_EQ(r[2].total.cycles, r[3].total.cycles);
  EXPECT_EQ(r[3].total.actions.bank_conflict_cycles, 0u);
}

TEST(SimSanity, EnergyIsActionsTimesTheTable) {
  std::mt19937_64 rng(fresh_seed());
  const QuantizedLayer l = layer_for(Scheme::kXfpV2a, 70, 300);
  const ArchConfig arch = arch_with({"energy.node_scale=0.16", "sram.weight_kib=12", "act.bits=8"});
  auto p = compile_for(l, arch);
  const auto r = simulate_jobs({job_of(arch, {layer_of(p, random_activations(2, 300, rng))}, 2)});
  const EngineStats& s = r[0].layers[0].stats;
  const ActionCounts& a = s.actions;
  const EnergyTable& e = arch.energy;
  // The table's entries for this arch: 12 KiB weight SRAM and 64 KiB activation SRAM reads per byte.
  const double w_sram =
      (e.sram_read_64b_8kib_pj + (std::log2(12.0 / 8) / 2) * (e.sram_read_64b_32kib_pj - e.sram_read_64b_8kib_pj)) / 8;
  const double a_sram =
      (e.sram_read_64b_32kib_pj + (std::log2(64.0 / 32) / 5) * (e.sram_read_64b_1mib_pj - e.sram_read_64b_32kib_pj)) /
      8;
  const double k = e.node_scale;
  std::map<std::string, double> want;
  want["dram"] = double(a.dram_bytes) * e.dram_byte_pj;
  want["sram"] = k * (double(a.weight_sram_read_bytes) * w_sram + double(a.weight_sram_write_bytes) * w_sram +
                      double(a.act_sram_read_bytes) * a_sram + double(a.act_sram_write_bytes) * a_sram);
  want["lut"] = k * double(a.lut_reads + a.lut_writes) * e.lut_read_pj;
  want["multiply"] = k * double(a.multiplies) * e.mult_8b_pj;
  want["accumulate"] = k * double(a.acc_adds) * e.acc_add_pj;
  want["outlier"] = k * double(a.outlier_ops) * e.outlier_op_pj;
  want["control"] = k * double(a.instructions + a.output_words) * e.add_32b_pj;
  want["leakage"] = k * double(s.cycles) * e.leakage_pj_per_cycle;
  double total = 0;
  for (const auto& [part, pj] : want) {
    ASSERT_TRUE(s.energy.pj.count(part)) << part;
    EXPECT_DOUBLE_EQ(s.energy.pj.at(part), pj) << part;
    total += s.energy.pj.at(part);
  }
  EXPECT_EQ(s.energy.pj.size(), want.size());
  EXPECT_DOUBLE_EQ(s.energy.total_pj, total);
  // Counted actions are what the layer does: every code once per vector.
  EXPECT_EQ(a.lut_reads, uint64_t(70) * 300 * 2);
  EXPECT_EQ(a.multiplies, a.lut_reads);
  EXPECT_EQ(a.output_words, uint64_t(70) * 2);
  EXPECT_LE(a.outlier_ops, uint64_t(l.outliers.count()) * 2);
  EXPECT_EQ(a.instructions, p->code.size());
  EXPECT_GT(s.energy.pj.at("dram"), 0);
}

}  // namespace
}  // namespace lutc

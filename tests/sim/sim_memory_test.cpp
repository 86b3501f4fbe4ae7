// The SystemC model holds what its programs touch, not the arch's capacity: a
// 64x64 layer on an arch at the documented maxima (about 5.7 GB of SRAM and
// LUT) simulates in a few hundred KB, with y bit-identical to the executor;
// a job of several layers grows the memories between layers, keeping what
// earlier layers left there.
#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "compiler_test_layers.h"
#include "lutc/compiler/executor.h"
#include "sim_test_support.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace testing;

TEST(SimMemory, MemoriesHoldWhatTheProgramsTouchNotTheArch) {
  std::mt19937_64 rng(fresh_seed());
  // One tile at the maxima; with 4 lanes many double-buffered tiles, whose
  // second buffers sit at half of each memory's capacity.
  const ArchConfig archs[] = {arch_at_maxima(), arch_at_maxima({"core.lanes=4"})};
  const uint32_t batch = 1 + rng() % 3;
  struct Layer {
    std::shared_ptr<const Program> program;
    std::vector<float> x;
  };
  std::vector<std::vector<Layer>> per_job;
  std::vector<sim::SimJob> jobs;
  for (const ArchConfig& arch : archs) {
    std::vector<Layer> layers;
    std::vector<sim::SimLayer> sim_layers;
    const uint32_t shapes[][2] = {{64, 64}, {1 + uint32_t(rng() % 40), 1 + uint32_t(rng() % 300)}};
    const Scheme schemes[] = {Scheme::kXfpV2, Scheme::kInt4G128};
    for (int i = 0; i < 2; ++i) {
      const std::vector<float> w = random_weights(shapes[i][0], shapes[i][1], rng);
      const QuantizedLayer l =
          quantize_for_test(schemes[i], "blk." + std::to_string(i), w.data(), shapes[i][0], shapes[i][1], 64);
      Layer x{compile_for(l, arch), random_activations(batch, l.cols, rng)};
      sim_layers.push_back(layer_of(x.program, x.x));
      layers.push_back(std::move(x));
    }
    jobs.push_back(job_of(arch, std::move(sim_layers), batch));
    per_job.push_back(std::move(layers));
  }
  const std::vector<sim::SimResult> results = simulate_jobs(std::move(jobs));
  ASSERT_EQ(results.size(), 2u);
  for (size_t j = 0; j < 2; ++j) {
    const ArchConfig& arch = archs[j];
    SCOPED_TRACE(std::to_string(arch.lanes) + " lanes, batch " + std::to_string(batch));
    uint64_t bound = 0;
    for (size_t i = 0; i < per_job[j].size(); ++i) {
      const Layer& l = per_job[j][i];
      bound += program_memory_bound(*l.program, batch);
      std::vector<float> want(size_t(batch) * l.program->meta.rows, std::numeric_limits<float>::quiet_NaN());
      execute(*l.program, l.x.data(), batch, want.data());
      const std::vector<float>& got = results[j].layers[i].y;
      ASSERT_EQ(got.size(), want.size());
      for (size_t k = 0; k < got.size(); ++k)
        ASSERT_EQ(float_bits(got[k]), float_bits(want[k])) << "layer " << i << " element " << k;
    }
    const uint64_t capacity = arch.weight_sram_bytes() + uint64_t(batch) * arch.act_sram_bytes() + 4 * arch.lut_words();
    EXPECT_GT(results[j].memory_bytes, 0u);
    EXPECT_LE(results[j].memory_bytes, bound);
    EXPECT_LT(results[j].memory_bytes, capacity / 1000) << "the arch holds " << capacity << " B";
  }
}

}  // namespace
}  // namespace lutc

// Batches wider than one tile (4 vectors) run block by block over the rows
// (fast_gemv.cpp batch_row_block): every tile covers a block before the next
// block starts. Layers tall enough for several blocks, each vector of a
// batch against the same vector run alone: a block or tile that skipped,
// repeated or misplaced rows would be off by whole dot products.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernel_test_util.h"
#include "lutc/kernels/cpu/gemv.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

using kernels::Path;

TEST(BatchBlocks, EveryVectorMatchesItsOwnRun) {
  const uint64_t seed = fresh_seed();
  std::mt19937_64 rng(seed);
  kernels::ThreadPool pool(2);
  for (Scheme s : {Scheme::kInt4G128, Scheme::kXfpV2}) {
    // 4096 columns: about 2 KiB of codes per row, so blocks of 60 rows, and
    // 250 rows on one thread are several blocks and a short last one.
    const QuantizedLayer l = realistic_layer(s, 250, 4096, seed + 1);
    const kernels::PackedLayer p = kernels::pack_layer(l);
    // One thread: one row range, several blocks; two: 8 ranges of 32 rows.
    for (kernels::ThreadPool* tp : {static_cast<kernels::ThreadPool*>(nullptr), &pool})
      for (Path path : {Path::kF32, Path::kI8})
        for (uint32_t batch : {5u, 8u, 11u}) {
          const std::vector<float> x = random_activations(rng, size_t(batch) * l.cols);
          kernels::RunOptions opt;
          opt.pool = tp;
          std::vector<float> y = poisoned(size_t(batch) * l.rows);
          kernels::gemv_fast(path, p, x.data(), batch, y.data(), opt);
          for (uint32_t m = 0; m < batch; ++m) {
            std::vector<float> one = poisoned(l.rows);
            kernels::gemv_fast(path, p, x.data() + size_t(m) * l.cols, 1, one.data(), opt);
            for (uint32_t r = 0; r < l.rows; ++r) {
              const float got = y[size_t(m) * l.rows + r];
              ASSERT_NEAR(got, one[r], 1e-4f * (std::fabs(one[r]) + 1.0f))
                  << scheme_name(s) << " " << kernels::path_name(path) << " batch " << batch << " vector " << m
                  << " row " << r << (tp ? " (2 threads)" : " (1 thread)");
            }
          }
        }
  }
}

}  // namespace
}  // namespace lutc::testing

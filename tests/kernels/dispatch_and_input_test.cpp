// Dispatch and bad input: the machine's best level is detected, a level the
// CPU lacks is refused, a malformed sop layer is refused with a message that
// says so, and
// non-finite activations are rejected by every path instead of propagating.
#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "kernel_schemes.h"
#include "kernel_test_util.h"
#include "lutc/kernels/cpu/gemv.h"
#include "lutc/model/error.h"
#include "model/layer_samples.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

using kernels::Isa;

TEST(Dispatch, BestLevelIsAvailableAndNamesParse) {
  EXPECT_TRUE(kernels::isa_available(Isa::kPortable));
  EXPECT_TRUE(kernels::isa_available(kernels::best_isa()));
  std::printf("[ isa      ] best: %s\n", kernels::isa_name(kernels::best_isa()));
  for (Isa i : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512}) {
    Isa back;
    ASSERT_TRUE(kernels::parse_isa(kernels::isa_name(i), &back));
    EXPECT_EQ(back, i);
  }
  Isa dummy;
  EXPECT_FALSE(kernels::parse_isa("sse9", &dummy));
}

TEST(Dispatch, UnavailableLevelIsRefused) {
  std::mt19937_64 rng(fresh_seed());
  const kernels::PackedLayer p = kernels::pack_layer(random_layer(Scheme::kInt4G128, rng));
  for (Isa i : {Isa::kAvx2, Isa::kAvx512}) {
    if (kernels::isa_available(i)) continue;
    kernels::RunOptions opt;
    opt.isa = i;
    std::vector<float> x(p.cols, 1.0f), y(p.rows);
    EXPECT_THROW(kernels::gemv_fast(kernels::Path::kF32, p, x.data(), 1, y.data(), opt), Error);
  }
}

TEST(Input, MalformedSopIsRefusedClearly) {
  std::mt19937_64 rng(fresh_seed());
  QuantizedLayer l = random_sop_layer(rng, SampleOptions{});
  l.name = "blk.0.q";
  l.block_scales.pop_back();
  try {
    kernels::pack_layer(l);
    FAIL() << "a sop layer with a missing block scale was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("block_scales"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("blk.0.q"), std::string::npos) << e.what();
  }
}

TEST(Input, I8PathNeedsFourBitCodes) {
  std::mt19937_64 rng(fresh_seed());
  const kernels::PackedLayer p = kernels::pack_layer(random_layer(Scheme::kFp8E4M3, rng));
  EXPECT_FALSE(kernels::path_supports(kernels::Path::kI8, p));
  std::vector<float> x(p.cols, 1.0f), y(p.rows);
  EXPECT_THROW(kernels::gemv_fast(kernels::Path::kI8, p, x.data(), 1, y.data()), Error);
}

TEST(Input, NonFiniteActivationsAreRejected) {
  std::mt19937_64 rng(fresh_seed());
  SampleOptions o;
  o.rows = 5;
  o.cols = 70;
  const kernels::PackedLayer p = kernels::pack_layer(random_layer(Scheme::kNf4B64, rng, o));
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    std::vector<float> x(2 * p.cols, 0.5f), y(2 * p.rows);
    x[p.cols + 13] = bad;
    EXPECT_THROW(kernels::gemv_exact(p, x.data(), 2, GemvConfig{}, y.data()), Error);
    EXPECT_THROW(kernels::gemv_fast(kernels::Path::kF32, p, x.data(), 2, y.data()), Error);
    EXPECT_THROW(kernels::gemv_fast(kernels::Path::kI8, p, x.data(), 2, y.data()), Error);
  }
}

TEST(Input, DecodeOutsideTheLayerIsRefused) {
  std::mt19937_64 rng(fresh_seed());
  SampleOptions o;
  o.rows = 4;
  const kernels::PackedLayer p = kernels::pack_layer(random_layer(Scheme::kXfpV2, rng, o));
  std::vector<float> out(size_t(8) * p.cols);
  EXPECT_THROW(kernels::decode_exact(p, 2, 3, out.data()), Error);
}

TEST(Packed, MemoryIsReported) {
  std::mt19937_64 rng(fresh_seed());
  SampleOptions o;
  o.rows = 64;
  o.cols = 4096;
  o.bits = 4;
  o.outlier_fraction = 0;
  const kernels::PackedLayer p = kernels::pack_layer(random_layer(Scheme::kInt4G128, rng, o));
  // 4 bits per weight of codes + fp16 scale and zero per 128: 4.25 bpw.
  EXPECT_EQ(p.streamed_bytes(), size_t(64) * 4096 / 2 + size_t(64) * 32 * 4);
  EXPECT_GE(p.memory_bytes(), p.streamed_bytes());
}

}  // namespace
}  // namespace lutc::testing

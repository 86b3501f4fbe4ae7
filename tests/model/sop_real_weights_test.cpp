#include <gtest/gtest.h>

#include <cmath>

#include "lutc/model/golden.h"
#include "lutc/model/matrix_source.h"
#include "lutc/model/metrics.h"
#include "lutc/model/quantize.h"
#include "lutc/model/sop.h"
#include "lutc/model/xfp_file.h"
#include "test_data.h"

namespace lutc {
namespace {

// stories260K: every matrix through e2m3.ue4m4.b16. FP6 E2M3 has 3 mantissa
// bits, like FP8 E4M3, and a per-16 scale leaves little range to lose, so its
// SQNR should sit near 8-bit FP8's (~31 dB on Gaussian-like weights); the
// bound leaves ~3 dB for heavier-tailed real rows. It also must not lose more
// than 1.5 dB to fp8.e4m3 on any matrix.
TEST(SopRealWeights, Stories260kFp6QualityBound) {
  const std::string path = testing::shared_data("stories260K/stories260K.safetensors");
  if (!testing::require_file(path)) return;
  auto src = MatrixSource::open(path);
  ASSERT_FALSE(src->matrices().empty());
  SopOptions o;
  o.format = parse_sop_format("e2m3.ue4m4.b16");
  for (const auto& m : src->matrices()) {
    const auto w = src->load(m);
    const QuantizedLayer l = quantize_sop(m.name, Role::kOther, w.data(), m.rows, m.cols, o);
    std::vector<float> d(w.size());
    golden_decode(l, d.data());
    const QualityStats q = measure_quality(w.data(), d.data(), m.rows, m.cols);
    const QuantizedLayer f8 = quantize_baseline(Scheme::kFp8E4M3, m.name, Role::kOther, w.data(), m.rows, m.cols);
    golden_decode(f8, d.data());
    const QualityStats q8 = measure_quality(w.data(), d.data(), m.rows, m.cols);
    EXPECT_GT(q.sqnr_db, 28.0) << m.name;
    EXPECT_GT(q.cos_min, 0.999) << m.name;
    EXPECT_GT(q.sqnr_db, q8.sqnr_db - 1.5) << m.name;
    // 6 index bits + an 8-bit scale per 16, plus a fixed cost per layer (the
    // 64-entry fp16 codebook, header, section framing) that is large only
    // next to stories260K's tiny 64x64 matrices.
    const uint64_t payload = 6 * l.elements() + 8 * l.block_scales.size();
    EXPECT_LT(stored_bits(l) - payload, 3000u) << m.name;
  }
}

}  // namespace
}  // namespace lutc

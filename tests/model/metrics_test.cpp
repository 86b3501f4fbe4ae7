// Quality metrics against plain sequential fp64 sums: the one-pass lane sums
// agree to rounding, and measure_quality's cosine is bit-identical to
// row_cosine (the quantizer checks floors with row_cosine; a report computed
// another way could call a row that met its floor a miss).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "lutc/model/golden.h"
#include "lutc/model/layer_report.h"
#include "lutc/model/metrics.h"
#include "lutc/model/quantize.h"
#include "test_data.h"

namespace lutc {
namespace {

double ref_cosine(const float* a, const float* b, uint32_t n) {
  double ab = 0, aa = 0, bb = 0;
  for (uint32_t k = 0; k < n; ++k) {
    ab += double(a[k]) * b[k];
    aa += double(a[k]) * a[k];
    bb += double(b[k]) * b[k];
  }
  if (aa == 0 && bb == 0) return 1;
  if (aa == 0 || bb == 0) return 0;
  return ab / std::sqrt(aa * bb);
}

TEST(Metrics, OnePassSumsMatchSequentialReference) {
  const uint64_t seed = testing::fresh_seed();
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0, 1);
  for (uint32_t cols : {1u, 2u, 3u, 5u, 7u, 8u, 9u, 31u, 64u, 129u, 4096u}) {
    const uint32_t rows = 6;
    std::vector<float> w(size_t(rows) * cols), h(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      w[i] = nd(rng) * 0.02f;
      h[i] = w[i] + nd(rng) * 0.002f;
    }
    // Row 1 dead, row 2 tiny (max |w| below 2^-14), row 3 with its max last.
    for (uint32_t k = 0; k < cols; ++k) w[cols + k] = 1e-9f, w[2 * cols + k] = 1e-6f * nd(rng);
    w[2 * cols + cols - 1] = 5e-5f;
    for (uint32_t k = 0; k < cols; ++k) h[2 * cols + k] = w[2 * cols + k] * (1 + 0.1f * nd(rng));
    w[3 * cols + cols - 1] = 100.0f;
    h[3 * cols + cols - 1] = 99.0f;
    double sig = 0, err = 0, cmin = 1e9, csum = 0;
    uint32_t dead = 0, tiny = 0;
    std::vector<double> live_cos;
    for (uint32_t r = 0; r < rows; ++r) {
      const float* a = w.data() + size_t(r) * cols;
      const float* b = h.data() + size_t(r) * cols;
      float mx = 0;
      for (uint32_t k = 0; k < cols; ++k) {
        sig += double(a[k]) * a[k];
        err += (double(a[k]) - b[k]) * (double(a[k]) - b[k]);
        mx = std::max(mx, std::fabs(a[k]));
      }
      const bool is_dead = mx < 2.98023223876953125e-08f;
      EXPECT_EQ(row_is_dead(a, cols), is_dead) << "seed " << seed << " cols " << cols << " row " << r;
      EXPECT_EQ(row_is_tiny(a, cols), !is_dead && mx < 6.103515625e-05f) << cols << " row " << r;
      const double c = row_cosine(a, b, cols);
      EXPECT_NEAR(c, ref_cosine(a, b, cols), 1e-12) << "seed " << seed << " cols " << cols;
      if (is_dead) {
        ++dead;
        continue;
      }
      tiny += mx < 6.103515625e-05f;
      cmin = std::min(cmin, c);
      live_cos.push_back(c);
      csum += c;
    }
    const double floor = std::nextafter(cmin, 2.0);
    uint32_t below = 0;
    for (double c : live_cos) below += floor > 0 && c < floor;  // floors are positive
    const QualityStats q = measure_quality(w.data(), h.data(), rows, cols, floor);
    EXPECT_EQ(q.dead_rows, dead);
    EXPECT_EQ(q.tiny_rows, tiny);
    EXPECT_EQ(q.live_rows, rows - dead);
    EXPECT_EQ(q.cos_min, cmin);  // the same function, so exactly
    EXPECT_DOUBLE_EQ(q.cos_mean, csum / (rows - dead));
    EXPECT_EQ(q.rows_below_floor, below) << "floor " << floor << " cos_min " << q.cos_min;
    EXPECT_NEAR(q.signal, sig, 1e-12 * sig);
    EXPECT_NEAR(q.error, err, 1e-12 * err);
  }
}

// The report decodes a few rows at a time; it must give what decoding the
// whole layer and measuring it at once gives, to the bit.
TEST(Metrics, BlockwiseDecodeReportMatchesWholeMatrix) {
  const uint64_t seed = testing::fresh_seed();
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0, 0.02f);
  for (uint32_t cols : {128u, 4100u, 20000u}) {
    const uint32_t rows = 3 + rng() % 9;
    std::vector<float> w(size_t(rows) * cols);
    for (float& x : w) x = nd(rng);
    for (uint32_t k = 0; k < cols; ++k) w[cols + k] = 0;  // a dead row
    XfpOptions o;
    o.bits = 3;
    const QuantizedLayer l = quantize_xfp("m", Role::kAttention, w.data(), rows, cols, o);
    std::vector<float> wh(w.size());
    golden_decode(l, wh.data());
    const QualityStats whole = measure_quality(w.data(), wh.data(), rows, cols, 0.9);
    LayerReport r = describe_layer(l);
    add_quality(r, w.data(), l, 0.9);
    EXPECT_EQ(r.quality.cos_min, whole.cos_min) << "seed " << seed;
    EXPECT_EQ(r.quality.cos_mean, whole.cos_mean);
    EXPECT_EQ(r.quality.signal, whole.signal);
    EXPECT_EQ(r.quality.error, whole.error);
    EXPECT_EQ(r.quality.worst_row, whole.worst_row);
    EXPECT_EQ(r.quality.dead_rows, 1u);
    EXPECT_EQ(r.quality.rows_below_floor, whole.rows_below_floor);
    QualityAccumulator acc(cols, 0.9);
    for (uint32_t r0 = 0; r0 < rows; r0 += 2)
      acc.add_rows(w.data() + size_t(r0) * cols, wh.data() + size_t(r0) * cols, std::min(2u, rows - r0));
    EXPECT_EQ(acc.finish().error, whole.error);
    EXPECT_EQ(acc.finish().cos_min, whole.cos_min);
  }
}

}  // namespace
}  // namespace lutc

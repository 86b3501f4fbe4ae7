#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "lutc/model/element_formats.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/golden.h"
#include "lutc/model/metrics.h"
#include "lutc/model/quantize.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"
#include "test_data.h"

namespace lutc {
namespace {

constexpr Scheme kBaselines[] = {Scheme::kInt4G128, Scheme::kNf4B64, Scheme::kFp8E4M3};

std::vector<float> decode(const QuantizedLayer& l) {
  std::vector<float> w(size_t(l.elements()));
  golden_decode(l, w.data());
  return w;
}

double sqnr(const std::vector<float>& w, const QuantizedLayer& l) {
  return measure_quality(w.data(), decode(l).data(), l.rows, l.cols).sqnr_db;
}

TEST(Baselines, GaussianSqnrInTheExpectedRanges) {
  std::mt19937_64 rng(testing::fresh_seed());
  const uint32_t rows = 256, cols = 1024;
  std::normal_distribution<double> d(0, 0.02);
  std::vector<float> w(size_t(rows) * cols);
  for (auto& v : w) v = float(d(rng));
  struct Want {
    Scheme s;
    double lo, hi, bpw_lo, bpw_hi;
  };
  // int4.g128: step ~ 5.5 sigma / 15 over a 128-sample range, ~20 dB.
  // nf4.b64: normal-quantile levels, ~20.5 dB. fp8: 3 mantissa bits, ~31 dB.
  const Want want[] = {{Scheme::kInt4G128, 19.0, 21.5, 4.25, 4.30},
                       {Scheme::kNf4B64, 19.5, 22.0, 4.25, 4.30},
                       {Scheme::kFp8E4M3, 30.0, 32.5, 8.0, 8.01}};
  for (const Want& c : want) {
    const QuantizedLayer l = quantize_baseline(c.s, "g", Role::kMlp, w.data(), rows, cols);
    const double q = sqnr(w, l);
    EXPECT_GT(q, c.lo) << scheme_name(c.s);
    EXPECT_LT(q, c.hi) << scheme_name(c.s);
    std::printf("[ baseline ] %-10s gaussian %ux%u: %.2f dB, %.4f bpw\n", scheme_name(c.s), rows, cols, q,
                effective_bpw(l));
    EXPECT_GT(effective_bpw(l), c.bpw_lo) << scheme_name(c.s);
    EXPECT_LT(effective_bpw(l), c.bpw_hi) << scheme_name(c.s);
    EXPECT_TRUE(l.outliers.row_ptr.empty());
  }
}

TEST(Baselines, FieldsAndGrids) {
  std::mt19937_64 rng(testing::fresh_seed());
  const uint32_t rows = 5, cols = 300;  // short last groups: 300 = 2*128 + 44 = 4*64 + 44
  std::vector<float> w(rows * cols);
  std::normal_distribution<double> d(0, 1);
  for (auto& v : w) v = float(d(rng));
  const QuantizedLayer i4 = quantize_baseline(Scheme::kInt4G128, "a", Role::kMlp, w.data(), rows, cols);
  EXPECT_EQ(i4.bits, 4);
  EXPECT_EQ(i4.group, 128u);
  EXPECT_EQ(i4.group_scales.size(), rows * 3u);
  const QuantizedLayer n4 = quantize_baseline(Scheme::kNf4B64, "a", Role::kMlp, w.data(), rows, cols);
  EXPECT_EQ(n4.group, 64u);
  EXPECT_EQ(n4.group_scales.size(), rows * 5u);
  const QuantizedLayer f8 = quantize_baseline(Scheme::kFp8E4M3, "a", Role::kMlp, w.data(), rows, cols);
  EXPECT_EQ(f8.bits, 8);
  // The layer scale is the smallest power of two that fits the maximum into 448.
  float amax = 0;
  for (float v : w) amax = std::max(amax, std::fabs(v));
  EXPECT_LE(std::ldexp(amax, -f8.layer_scale_exp), 448.0f);
  EXPECT_GT(std::ldexp(amax, -(f8.layer_scale_exp - 1)), 448.0f);

  // int4: every element inside its group's grid is within half a step of
  // its decoded value; one outside it (the fp16-rounded scale can make the
  // grid a little narrower than the group's range) decodes to the nearer end.
  const auto wi = decode(i4);
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t k = 0; k < cols; ++k) {
      const size_t g = size_t(r) * 3 + k / 128;
      const double s = half_to_float(i4.group_scales[g]), z = half_to_float(i4.group_zeros[g]);
      const double x = w[r * cols + k], lo = -z * s, hi = (15 - z) * s;
      if (x < lo)
        EXPECT_NEAR(wi[r * cols + k], lo, 1e-6 * s);
      else if (x > hi)
        EXPECT_NEAR(wi[r * cols + k], hi, 1e-6 * s);
      else
        EXPECT_LE(std::fabs(x - wi[r * cols + k]), s * 0.5 * (1 + 1e-6));
    }
  // nf4: no other level is closer than the chosen one.
  const auto wn = decode(n4);
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t k = 0; k < cols; ++k) {
      const float s = half_to_float(n4.group_scales[size_t(r) * 5 + k / 64]);
      const double err = std::fabs(double(w[r * cols + k]) - wn[r * cols + k]);
      for (unsigned i = 0; i < 16; ++i)
        EXPECT_LE(err, std::fabs(double(w[r * cols + k]) - double(half_to_float(nf4_level_fp16(i)) * s)));
    }
  // fp8: each element is the RNE of its scaled value.
  const auto wf = decode(f8);
  for (size_t i = 0; i < w.size(); ++i) {
    const float want =
        std::ldexp(e4m3_to_float(double_to_e4m3(std::ldexp(double(w[i]), -f8.layer_scale_exp))), f8.layer_scale_exp);
    EXPECT_EQ(wf[i], want);
  }
}

TEST(Baselines, EdgeCases) {
  const uint32_t rows = 3, cols = 130;
  std::vector<float> zero(rows * cols, 0.0f);
  for (Scheme s : kBaselines) {
    const auto l = quantize_baseline(s, "z", Role::kOther, zero.data(), rows, cols);
    for (float v : decode(l)) EXPECT_EQ(v, 0.0f) << scheme_name(s);
  }
  // Constant, all-positive, huge and tiny groups stay finite and sensible.
  std::vector<float> w(rows * cols);
  for (uint32_t k = 0; k < cols; ++k) {
    w[k] = 0.5f;                                    // constant row
    w[cols + k] = 1e6f * float(k + 1);              // beyond fp16: scales saturate
    w[2 * cols + k] = 1e-30f * float(int(k) - 60);  // below fp16 scales
  }
  for (Scheme s : kBaselines) {
    const auto l = quantize_baseline(s, "e", Role::kOther, w.data(), rows, cols);
    const auto d = decode(l);
    for (float v : d) EXPECT_TRUE(std::isfinite(v)) << scheme_name(s);
    // One fp8 scale serves the whole layer, so its constant row only survives alone.
    const auto c = s == Scheme::kFp8E4M3 ? decode(quantize_baseline(s, "c", Role::kOther, w.data(), 1, cols)) : d;
    // int4: 0.5 = 15 * fp16(0.5/15) up to the scale's fp16 rounding.
    for (uint32_t k = 0; k < cols; ++k) EXPECT_NEAR(c[k], 0.5f, 0x1p-11f) << scheme_name(s);
  }
  const auto f8 = quantize_baseline(Scheme::kFp8E4M3, "t", Role::kOther, w.data() + 2 * cols, 1, cols);
  EXPECT_GT(sqnr(std::vector<float>(w.begin() + 2 * cols, w.end()), f8), 25.0);

  std::vector<float> bad(4, 1.0f);
  bad[2] = NAN;
  EXPECT_THROW(quantize_baseline(Scheme::kNf4B64, "n", Role::kOther, bad.data(), 2, 2), Error);
  EXPECT_THROW(quantize_baseline(Scheme::kXfpV2, "n", Role::kOther, zero.data(), 2, 2), Error);
  EXPECT_TRUE(is_baseline(Scheme::kFp8E4M3));
  EXPECT_FALSE(is_baseline(Scheme::kXfpV2));
  EXPECT_TRUE(is_xfp(Scheme::kXfpV2a));
  EXPECT_FALSE(is_xfp(Scheme::kSop));
}

TEST(Baselines, Stories260K) {
  const std::string path = testing::shared_data("stories260K/stories260K.safetensors");
  if (!testing::require_file(path)) return;
  const auto file = WeightFile::open(path);
  XfpFile out;
  double sum_q[3] = {0, 0, 0};
  int n = 0;
  for (const auto& t : file->tensors()) {
    if (!t.is_matrix()) continue;
    const auto w = file->read_all(t);
    const uint32_t rows = uint32_t(t.rows()), cols = uint32_t(t.cols());
    for (int i = 0; i < 3; ++i) {
      auto l = quantize_baseline(kBaselines[i], t.name + "." + scheme_name(kBaselines[i]), Role::kOther, w.data(), rows,
                                 cols);
      const double q = sqnr(w, l);
      sum_q[i] += q;
      // Trained weights are heavier-tailed than Gaussian; per-tensor floors.
      EXPECT_GT(q, i == 2 ? 28.0 : 16.0) << t.name << " " << scheme_name(kBaselines[i]);
      out.layers.push_back(std::move(l));
    }
    ++n;
  }
  ASSERT_GT(n, 10);
  for (int i = 0; i < 3; ++i)
    std::printf("[ baseline ] %-10s stories260K mean over %d matrices: %.2f dB\n", scheme_name(kBaselines[i]), n,
                sum_q[i] / n);
  EXPECT_GT(sum_q[0] / n, 18.0);
  EXPECT_GT(sum_q[1] / n, 18.0);
  EXPECT_GT(sum_q[2] / n, 30.0);
  // The container carries them unchanged.
  const std::string xfp = testing::temp_dir() + "/stories.xfp";
  write_xfp(xfp, out);
  const XfpFile back = read_xfp(xfp);
  ASSERT_EQ(back.layers.size(), out.layers.size());
  for (size_t i = 0; i < out.layers.size(); ++i) {
    EXPECT_EQ(back.layers[i].indices, out.layers[i].indices);
    EXPECT_EQ(decode(back.layers[i]), decode(out.layers[i]));
  }
}

}  // namespace
}  // namespace lutc

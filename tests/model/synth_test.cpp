#include "lutc/model/synth.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "core/portable_random.h"
#include "lutc/model/error.h"
#include "test_data.h"

namespace lutc {
namespace {

using lutc::testing::fresh_seed;

double rms(const float* v, size_t n, size_t stride = 1) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += double(v[i * stride]) * v[i * stride];
  return std::sqrt(s / double(n));
}

uint64_t fnv1a(const std::vector<float>& v) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (float f : v) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    for (int i = 0; i < 4; ++i) h = (h ^ ((u >> (8 * i)) & 0xff)) * 0x100000001b3ull;
  }
  return h;
}

TEST(Synth, SameSeedSameMatrixOtherSeedOtherMatrix) {
  std::mt19937_64 rng(fresh_seed());
  SynthSpec s;
  s.rows = 1 + uint32_t(rng() % 300);
  s.cols = 1 + uint32_t(rng() % 300);
  s.seed = rng();
  const auto a = synth_matrix(s), b = synth_matrix(s);
  ASSERT_EQ(a.size(), size_t(s.rows) * s.cols);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0);
  s.seed ^= 1 + rng() % 1000;
  const auto c = synth_matrix(s);
  EXPECT_NE(std::memcmp(a.data(), c.data(), a.size() * 4), 0);
}

// The generator uses only operations IEEE 754 fixes bit for bit, so these
// values hold on every platform; a change here changes every published table.
TEST(Synth, PinnedOutputForAFixedSeed) {
  SynthSpec s;
  s.rows = 37;
  s.cols = 53;
  s.seed = 20240601;
  s.outlier_col_frac = 0.05;
  s.dead_row_frac = 0.05;
  const auto w = synth_matrix(s);
  EXPECT_EQ(fnv1a(w), 0xef37df4ca0d76485ull) << std::hex << fnv1a(w);
}

struct TQuantiles {
  double nu, q90, q99;  // two-sided: P(|T| > q90) = 0.10, P(|T| > q99) = 0.01
};

TEST(Synth, ElementsAreStudentTScaledToUnitVariance) {
  std::mt19937_64 rng(fresh_seed());
  const TQuantiles table[] = {{3, 2.353, 5.841}, {5, 2.015, 4.032}, {10, 1.812, 3.169}};
  const TQuantiles& q = table[rng() % 3];
  SCOPED_TRACE("nu = " + std::to_string(q.nu));
  SynthSpec s;
  s.rows = 256;
  s.cols = 4096;
  s.seed = rng();
  s.student_nu = q.nu;
  s.row_norm_sigma = 0;  // every row at the median scale 0.02
  s.outlier_col_frac = 0;
  s.dead_row_frac = 0;
  const auto w = synth_matrix(s);
  const double unit = 0.02 * std::sqrt((q.nu - 2) / q.nu);
  size_t above90 = 0, above99 = 0;
  for (float x : w) {
    above90 += std::fabs(x) > q.q90 * unit;
    above99 += std::fabs(x) > q.q99 * unit;
  }
  const double n = double(w.size());
  EXPECT_NEAR(above90 / n, 0.10, 0.002);
  EXPECT_NEAR(above99 / n, 0.01, 0.0008);
  if (q.nu > 4) {  // a finite kurtosis keeps the sample std tight
    EXPECT_NEAR(rms(w.data(), w.size()), 0.02, 0.02 * 0.03);
  }
}

TEST(Synth, RowScalesAreLogNormal) {
  std::mt19937_64 rng(fresh_seed());
  SynthSpec s;
  s.rows = 2000;
  s.cols = 1024;
  s.seed = rng();
  s.row_norm_sigma = 0.2 + 0.6 * double(rng() % 1000) / 1000;
  s.student_nu = 30;  // near-normal elements keep per-row estimates tight
  s.outlier_col_frac = 0;
  s.dead_row_frac = 0;
  const auto w = synth_matrix(s);
  double sum = 0, sum2 = 0;
  for (uint32_t r = 0; r < s.rows; ++r) {
    const double l = std::log(rms(&w[size_t(r) * s.cols], s.cols));
    sum += l;
    sum2 += l * l;
  }
  const double mean = sum / s.rows, sd = std::sqrt(sum2 / s.rows - mean * mean);
  // 6-sigma bands of the two estimates, so sigma near 0.8 is no likelier to
  // fail than sigma near 0.2: log(row rms) = log scale + the log of a 1024-sample
  // rms (variance ~0.0006 at nu = 30), whose bias is below the small constants.
  const double sigma = s.row_norm_sigma, noise_var = 0.0006;
  EXPECT_NEAR(mean, std::log(0.02), 6 * std::sqrt((sigma * sigma + noise_var) / s.rows) + 0.005);
  EXPECT_NEAR(sd, sigma, 6 * sigma / std::sqrt(2.0 * s.rows) + 0.003);
}

TEST(Synth, OutlierColumnsAndDeadRows) {
  std::mt19937_64 rng(fresh_seed());
  SynthSpec s;
  s.rows = 1000;
  s.cols = 4096;
  s.seed = rng();
  const uint32_t dead = 1 + uint32_t(rng() % 20);
  s.dead_row_frac = dead / 1000.0;
  const auto w = synth_matrix(s);

  uint32_t zero_rows = 0;
  for (uint32_t r = 0; r < s.rows; ++r) {
    const float* row = &w[size_t(r) * s.cols];
    zero_rows += std::all_of(row, row + s.cols, [](float x) { return x == 0.0f; });
  }
  EXPECT_EQ(zero_rows, dead);

  // Each column's median |w|, not its rms: one Student-t draw in a wide row
  // (a few per 4M elements reach 25 sigma) can lift a plain column's rms past
  // 4x, but not its median.
  auto median_of = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  std::vector<double> col_mid(s.cols), column(s.rows);
  for (uint32_t c = 0; c < s.cols; ++c) {
    for (uint32_t r = 0; r < s.rows; ++r) column[r] = std::fabs(w[size_t(r) * s.cols + c]);
    col_mid[c] = median_of(column);
  }
  const double median = median_of(col_mid);
  const auto loud = std::count_if(col_mid.begin(), col_mid.end(), [&](double v) { return v > 4 * median; });
  EXPECT_EQ(loud, 8) << "round(0.002 * 4096) outlier columns at 12x";
}

TEST(Synth, DefaultSetIsLlmShaped) {
  const uint64_t seed = fresh_seed();
  const auto set = default_synth_set(seed);
  ASSERT_EQ(set.size(), 2u);
  EXPECT_EQ(set[0].spec.rows, 4096u);
  EXPECT_EQ(set[0].spec.cols, 4096u);
  EXPECT_EQ(set[1].spec.rows, 11008u);
  EXPECT_EQ(set[1].spec.cols, 4096u);
  EXPECT_NE(set[0].spec.seed, set[1].spec.seed);
  EXPECT_NE(default_synth_set(seed + 1)[0].spec.seed, set[1].spec.seed);

  const auto w = synth_matrix(set[0].spec);
  std::vector<double> row_rms;
  for (uint32_t r = 0; r < 4096; ++r) {
    const double v = rms(&w[size_t(r) * 4096], 4096);
    if (v > 0) row_rms.push_back(v);
  }
  std::nth_element(row_rms.begin(), row_rms.begin() + long(row_rms.size() / 2), row_rms.end());
  EXPECT_NEAR(row_rms[row_rms.size() / 2], 0.02, 0.004) << "typical LLM weight std";
}

TEST(Synth, RejectsImpossibleSpecs) {
  auto expect_usage = [](SynthSpec s) {
    try {
      synth_matrix(s);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kUsage);
    }
  };
  SynthSpec s;
  s.rows = 0;
  expect_usage(s);
  s = {};
  s.student_nu = 0;
  expect_usage(s);
  s = {};
  s.dead_row_frac = 1.5;
  expect_usage(s);
  s = {};
  s.row_norm_sigma = std::nan("");
  expect_usage(s);
}

TEST(Synth, PortableLogAndExpAgreeWithLibm) {
  std::mt19937_64 rng(fresh_seed());
  for (int i = 0; i < 10000; ++i) {
    const double x = std::ldexp(1.0 + double(rng() >> 11) * 0x1.0p-53, int(rng() % 200) - 100);
    EXPECT_NEAR(portable::log(x), std::log(x), 4e-16 * std::max(1.0, std::fabs(std::log(x)))) << x;
    const double y = (double(rng() >> 11) * 0x1.0p-53 - 0.5) * 200;
    EXPECT_NEAR(portable::exp(y) / std::exp(y), 1.0, 1e-14) << y;
  }
}

}  // namespace
}  // namespace lutc

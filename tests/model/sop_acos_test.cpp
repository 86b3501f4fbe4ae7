#include <gtest/gtest.h>

#include <cmath>

#include <functional>
#include <random>
#include <string>

#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "lutc/model/sop.h"
#include "lutc/model/weights.h"
#include "sop_test_util.h"
#include "test_data.h"

namespace lutc {
namespace {

std::string stats_file(const std::string& name, std::vector<float> v, std::vector<uint64_t> shape) {
  const std::string path = testing::temp_dir() + "/" + name + ".safetensors";
  write_safetensors(path, {{"layer", shape, v.data()}});
  return path;
}

ExitCode error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  return ExitCode::kOk;
}

TEST(SopAcos, IsCosineWithoutWeightsAndIgnoresZeroWeightColumns) {
  const float w[4] = {1, 2, 3, 4}, h[4] = {1, 2, -3, 40};
  const double c = acos_row(w, h, nullptr, 4);
  const double dot = 1 + 4 - 9 + 160, nw = std::sqrt(30.0), nh = std::sqrt(1 + 4 + 9 + 1600.0);
  EXPECT_NEAR(c, dot / (nw * nh), 1e-15);
  const double a[4] = {1, 1, 0, 0};  // the columns that differ carry no activation energy
  EXPECT_NEAR(acos_row(w, h, a, 4), 1.0, 1e-15);
  const double b[4] = {0, 0, 1, 0};
  EXPECT_NEAR(acos_row(w, h, b, 4), -1.0, 1e-15);
}

TEST(SopAcos, StatisticsFileIsValidated) {
  const uint32_t K = 64;
  std::vector<float> good(K, 1.0f);
  const auto ok = ActStats::open(stats_file("ok", good, {K}));
  ASSERT_NE(ok->find("layer", K), nullptr);
  EXPECT_EQ(ok->find("other", K), nullptr) << "missing layer: caller falls back to cosine";
  EXPECT_EQ(error_of([&] { ok->find("layer", K + 1); }), ExitCode::kBadInput) << "wrong length";
  const auto row = ActStats::open(stats_file("row", good, {1, K}));
  EXPECT_NE(row->find("layer", K), nullptr) << "[1, K] is accepted";
  const auto mat = ActStats::open(stats_file("mat", std::vector<float>(2 * K, 1.0f), {2, K}));
  EXPECT_EQ(error_of([&] { mat->find("layer", 2 * K); }), ExitCode::kBadInput) << "a matrix is not a vector";
  auto nan = good;
  nan[5] = NAN;
  const auto n = ActStats::open(stats_file("nan", nan, {K}));
  EXPECT_EQ(error_of([&] { n->find("layer", K); }), ExitCode::kBadInput) << "NaN";
  auto neg = good;
  neg[3] = -1;
  const auto g = ActStats::open(stats_file("neg", neg, {K}));
  EXPECT_EQ(error_of([&] { g->find("layer", K); }), ExitCode::kBadInput) << "negative second moment";
  const auto z = ActStats::open(stats_file("zero", std::vector<float>(K, 0.0f), {K}));
  EXPECT_EQ(error_of([&] { z->find("layer", K); }), ExitCode::kBadInput) << "all zero";
}

// A refused statistic names the file, the layer, the column and its bytes;
// NaN/Inf are refused by the weight reader, also with the offset.
TEST(SopAcos, BadStatisticNamesTheFileAndByteOffset) {
  std::mt19937_64 rng(testing::fresh_seed());
  const uint32_t K = 8 + rng() % 100, k = rng() % K;
  const float bad[] = {-1.0f - float(rng() % 7), NAN, INFINITY};
  for (float v : bad) {
    std::vector<float> stats(K, 1.0f);
    stats[k] = v;
    const std::string path = stats_file("bad", stats, {K});
    const auto file = WeightFile::open(path);
    const uint64_t at = file->find("layer")->offset + 4ull * k;
    try {
      ActStats::open(path)->find("layer", K);
      ADD_FAILURE() << "accepted E[x^2] = " << v;
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_EQ(e.code(), ExitCode::kBadInput) << m;
      EXPECT_NE(m.find(path), std::string::npos) << m;
      EXPECT_NE(m.find("offset " + std::to_string(at)), std::string::npos) << m;
    }
  }
}

TEST(SopAcos, QuantizerRejectsWrongLengthStatistics) {
  const auto w = sop_test::gaussian(4, 64, testing::fresh_seed());
  std::vector<double> act(63, 1.0);
  SopOptions o;
  o.format = parse_sop_format("nf4.ue4m4.b16");
  o.act = &act;
  EXPECT_EQ(error_of([&] { quantize_sop("layer", Role::kMlp, w.data(), 4, 64, o); }), ExitCode::kBadInput);
}

TEST(SopAcos, WeightedSelectionFavoursTheHeavyColumns) {
  // With most activation energy on a few columns, ACos selection should buy
  // accuracy there: ACos with the statistics beats ACos of the unweighted run.
  const uint64_t seed = testing::fresh_seed();
  const uint32_t rows = 64, cols = 512;
  const auto w = sop_test::llm_like(rows, cols, seed);
  std::vector<double> act(cols, 1e-3);
  for (uint32_t k = 0; k < cols; k += 16) act[k] = 100;
  SopOptions plain, weighted;
  plain.format = weighted.format = parse_sop_format("pair(nf4,dd4).ue4m3.b16+o0.5");
  weighted.act = &act;
  SopChoice cp, cw;
  const QuantizedLayer lp = quantize_sop("layer", Role::kMlp, w.data(), rows, cols, plain, &cp);
  quantize_sop("layer", Role::kMlp, w.data(), rows, cols, weighted, &cw);
  EXPECT_FALSE(cp.act_weighted);
  EXPECT_TRUE(cw.act_weighted);
  std::vector<float> dp(w.size());
  golden_decode(lp, dp.data());
  double plain_err = 0;
  for (uint32_t r = 0; r < rows; ++r)
    plain_err += 1 - acos_row(w.data() + r * cols, dp.data() + r * cols, act.data(), cols);
  EXPECT_LT(cw.acos_error, plain_err);
}

}  // namespace
}  // namespace lutc

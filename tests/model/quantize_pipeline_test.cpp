// The quantize pipeline the CLI and the Python package share: caller-held
// arrays give the records a weight file of the same matrices gives, in input
// order, and bad arrays or settings are refused with the CLI's exit codes.
#include "lutc/model/quantize_pipeline.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "lutc/model/error.h"
#include "lutc/model/weights.h"
#include "test_data.h"

namespace lutc {
namespace {

struct Matrices {
  std::vector<std::string> names;
  std::vector<std::vector<float>> data;
  std::vector<std::pair<uint32_t, uint32_t>> shapes;
};

Matrices random_matrices(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  Matrices m;
  for (int i = 0; i < 3; ++i) {
    const uint32_t rows = 4 + uint32_t(rng() % 40), cols = 32 + uint32_t(rng() % 5) * 48;
    std::vector<float> w(size_t(rows) * cols);
    for (auto& v : w) v = normal(rng);
    m.names.push_back("blk." + std::to_string(i) + ".w");
    m.data.push_back(std::move(w));
    m.shapes.push_back({rows, cols});
  }
  return m;
}

std::vector<ArrayMatrix> arrays_of(const Matrices& m) {
  std::vector<ArrayMatrix> a;
  for (size_t i = 0; i < m.names.size(); ++i)
    a.push_back({m.names[i], m.shapes[i].first, m.shapes[i].second, m.data[i].data()});
  return a;
}

std::vector<QuantizedRecord> run(const MatrixSource& src, const QuantizeSettings& s) {
  std::string log;
  std::vector<QuantizedRecord> out;
  QuantizePipeline(s, src, &log).run([&](QuantizedRecord&& r) { out.push_back(std::move(r)); });
  return out;
}

TEST(QuantizePipeline, ArraysGiveTheRecordsOfTheSameMatricesInAFile) {
  const Matrices m = random_matrices(testing::fresh_seed());
  std::vector<NamedMatrix> named;
  for (size_t i = 0; i < m.names.size(); ++i)
    named.push_back({m.names[i], {m.shapes[i].first, m.shapes[i].second}, m.data[i].data()});
  const std::string path = testing::temp_dir() + "/m.safetensors";
  write_safetensors(path, named);

  for (const char* scheme : {"xfp.v2", "int4.g128", "sop"}) {
    QuantizeSettings s;
    s.scheme = scheme;
    s.bits = std::string(scheme) == "xfp.v2" ? 4 : 0;
    if (std::string(scheme) == "sop") s.sop_format = "e2m1.ue4m3.b16";
    s.threads = 3;
    const auto file = MatrixSource::open(path);
    const auto arrays = MatrixSource::from_arrays("m", arrays_of(m));
    EXPECT_EQ(quantize_metadata(*file, scheme), quantize_metadata(*arrays, scheme));
    const auto a = run(*file, s), b = run(*arrays, s);
    ASSERT_EQ(a.size(), m.names.size());
    ASSERT_EQ(b.size(), m.names.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(b[i].layer.name, m.names[i]) << scheme;
      EXPECT_EQ(serialize_layer(a[i].layer), serialize_layer(b[i].layer)) << scheme << " " << m.names[i];
      EXPECT_EQ(a[i].report.quality.sqnr_db, b[i].report.quality.sqnr_db);
      EXPECT_TRUE(b[i].report.has_quality);
    }
  }
}

TEST(QuantizePipeline, LoadCopiesArraysAndRefusesNonFiniteValuesByPosition) {
  Matrices m = random_matrices(testing::fresh_seed());
  const auto src = MatrixSource::from_arrays("mem", arrays_of(m));
  EXPECT_EQ(src->load(src->matrices()[1]), m.data[1]);
  const uint32_t cols = m.shapes[2].second;
  m.data[2][size_t(3) * cols + 7] = std::numeric_limits<float>::infinity();
  const auto bad = MatrixSource::from_arrays("mem", arrays_of(m));
  try {
    bad->load(bad->matrices()[2]);
    FAIL() << "Inf accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("row 3, column 7 is Inf"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("blk.2.w"), std::string::npos) << e.what();
  }
}

TEST(QuantizePipeline, RefusesEmptyOrRepeatedArraysAndBadSettingsAsUsage) {
  const Matrices m = random_matrices(testing::fresh_seed());
  auto code = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.code();
    }
    return ExitCode::kOk;
  };
  EXPECT_EQ(code([] { MatrixSource::from_arrays("mem", {}); }), ExitCode::kUsage);
  auto twice = arrays_of(m);
  twice.push_back(twice[0]);
  EXPECT_EQ(code([&] { MatrixSource::from_arrays("mem", twice); }), ExitCode::kUsage);
  const auto src = MatrixSource::from_arrays("mem", arrays_of(m));
  std::string log;
  QuantizeSettings s;
  s.bits = 7;
  EXPECT_EQ(code([&] { QuantizePipeline(s, *src, &log); }), ExitCode::kUsage);
  s = {};
  s.sop_format = "e2m1.ue4m3.b16";  // needs scheme sop
  EXPECT_EQ(code([&] { QuantizePipeline(s, *src, &log); }), ExitCode::kUsage);
  s = {};
  s.scheme = "xfp.v9";
  EXPECT_EQ(code([&] { run(*src, s); }), ExitCode::kUsage);
  s = {};
  s.floor_strict = std::nan("");
  EXPECT_EQ(code([&] { QuantizePipeline(s, *src, &log); }), ExitCode::kUsage);
}

}  // namespace
}  // namespace lutc

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "lutc/model/bitpack.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/golden.h"
#include "lutc/model/metrics.h"
#include "lutc/model/sop.h"
#include "lutc/model/xfp_file.h"
#include "sop_test_util.h"
#include "test_data.h"

namespace lutc {
namespace {

QuantizedLayer quantize(const std::vector<float>& w, uint32_t rows, uint32_t cols, const std::string& fmt,
                        SopChoice* ch = nullptr) {
  SopOptions o;
  o.format = parse_sop_format(fmt);
  return quantize_sop("layer", Role::kMlp, w.data(), rows, cols, o, ch);
}

// The decode written from docs/numerics.md without the library's helpers:
// scale code fields by shifts, UE value by pow, one fp32 product.
std::vector<float> independent_decode(const QuantizedLayer& l) {
  const unsigned M = l.sop_scale_mant_bits, E = 1u << l.bits;
  const uint32_t gpr = (l.cols + l.group - 1) / l.group;
  std::vector<float> out(size_t(l.elements()));
  for (uint32_t r = 0; r < l.rows; ++r)
    for (uint32_t k = 0; k < l.cols; ++k) {
      const uint64_t i = uint64_t(r) * l.cols + k;
      unsigned q = 0;
      for (unsigned b = 0; b < l.bits; ++b) {
        const uint64_t bit = i * l.bits + b;
        q |= ((l.indices[bit / 8] >> (bit % 8)) & 1u) << b;
      }
      const unsigned code = l.block_scales[size_t(r) * gpr + k / l.group];
      const unsigned mag = code & ((1u << (4 + M)) - 1), e = mag >> M, m = mag & ((1u << M) - 1);
      unsigned at = 4 + M;
      const unsigned sel = l.sop_paired ? (code >> at++) & 1u : 0;
      const unsigned sign = l.sop_scale_signed ? (code >> at) & 1u : 0;
      const double ue = e ? (1 + m / std::pow(2.0, M)) * std::pow(2.0, double(e) - 7) : m * std::pow(2.0, -6.0 - M);
      const float sv = float((sign ? -1 : 1) * ue * std::pow(2.0, l.layer_scale_exp));
      out[i] = half_to_float(l.codebooks[sel * E + q]) * sv;
    }
  const OutlierCsr& o = l.outliers;
  for (uint32_t r = 0; !o.row_ptr.empty() && r < l.rows; ++r)
    for (uint32_t j = o.row_ptr[r]; j < o.row_ptr[r + 1]; ++j) {
      float& v = out[size_t(r) * l.cols + o.col[j]];
      v = v + half_to_float(o.val[j]);
    }
  return out;
}

std::vector<float> decode(const QuantizedLayer& l) {
  std::vector<float> w(size_t(l.elements()));
  golden_decode(l, w.data());
  return w;
}

TEST(SopQuantize, EveryNamedFormatRoundTripsThroughXfpAndDecodesIndependently) {
  const uint64_t seed = testing::fresh_seed();
  const uint32_t rows = 24, cols = 200;  // 200 leaves a short last block for every B
  const auto w = sop_test::llm_like(rows, cols, seed);
  XfpFile f;
  std::vector<std::string> names;
  auto formats = sop_named_points();
  formats.push_back(parse_sop_format("pair(split87,dd4).sue4m3.b64+o1"));
  formats.push_back(parse_sop_format("int6.sue4m2.b8"));
  for (const SopFormat& fmt : formats) {
    QuantizedLayer l = quantize(w, rows, cols, fmt.name());
    l.name = fmt.name();
    EXPECT_EQ(stored_bits(l), 8 * serialize_layer(l).size());
    if (!fmt.pair_search) {
      EXPECT_EQ(stored_bits(l), sop_stored_bits(l.name, rows, cols, fmt)) << l.name;
    }
    const auto gold = decode(l), mine = independent_decode(l);
    EXPECT_EQ(0, std::memcmp(gold.data(), mine.data(), gold.size() * 4)) << "decode differs: " << l.name;
    const double q = measure_quality(w.data(), gold.data(), rows, cols).sqnr_db;
    EXPECT_GT(q, fmt.bits() == 6 ? 25.0 : 14.0) << l.name;
    f.layers.push_back(std::move(l));
  }
  const std::string path = testing::temp_dir() + "/sop.xfp";
  write_xfp(path, f);
  const XfpFile g = read_xfp(path);
  ASSERT_EQ(g.layers.size(), f.layers.size());
  for (size_t i = 0; i < f.layers.size(); ++i) {
    EXPECT_EQ(serialize_layer(g.layers[i]), serialize_layer(f.layers[i])) << f.layers[i].name;
    EXPECT_EQ(decode(g.layers[i]), decode(f.layers[i]));
  }
}

TEST(SopQuantize, PairSelectionPicksTheLowerErrorCodebookPerBlock) {
  const uint64_t seed = testing::fresh_seed();
  const uint32_t rows = 16, cols = 256, B = 16;
  const auto w = sop_test::llm_like(rows, cols, seed);
  // NF4 and SH4 both reach +-1, so all three layers share one layer exponent
  // and one scale grid (UE4M3); the pair can only differ by its choice.
  const QuantizedLayer pa = quantize(w, rows, cols, "nf4.ue4m3.b16");
  const QuantizedLayer pb = quantize(w, rows, cols, "sh4.ue4m3.b16");
  const QuantizedLayer pp = quantize(w, rows, cols, "pair(nf4,sh4).ue4m3.b16");
  ASSERT_EQ(pa.layer_scale_exp, pp.layer_scale_exp);
  ASSERT_EQ(pb.layer_scale_exp, pp.layer_scale_exp);
  const auto da = decode(pa), db = decode(pb), dp = decode(pp);
  unsigned chose_b = 0;
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t g = 0; g < cols / B; ++g) {
      double ea = 0, eb = 0, ep = 0;
      for (uint32_t k = g * B; k < (g + 1) * B; ++k) {
        const size_t i = size_t(r) * cols + k;
        ea += std::pow(double(w[i]) - da[i], 2);
        eb += std::pow(double(w[i]) - db[i], 2);
        ep += std::pow(double(w[i]) - dp[i], 2);
      }
      const unsigned sel = (pp.block_scales[r * (cols / B) + g] >> 7) & 1u;
      chose_b += sel;
      EXPECT_DOUBLE_EQ(ep, std::min(ea, eb)) << "row " << r << " block " << g;
      if (ea != eb) {
        EXPECT_EQ(sel, eb < ea ? 1u : 0u) << "row " << r << " block " << g;
      }
    }
  EXPECT_GT(chose_b, 0u);
  EXPECT_LT(chose_b, rows * cols / B);
}

TEST(SopQuantize, SignedScaleFlipsAnAsymmetricCodebook) {
  // Blocks whose large values are negative: Split87's 8-level side is
  // positive, so a good encoder uses the sign bit on those blocks.
  const uint64_t seed = testing::fresh_seed();
  auto w = sop_test::gaussian(8, 256, seed);
  for (size_t i = 0; i < w.size(); ++i) w[i] = -std::fabs(w[i]);
  const QuantizedLayer u = quantize(w, 8, 256, "split87.ue4m4.b16");
  const QuantizedLayer s = quantize(w, 8, 256, "split87.sue4m3.b16");
  unsigned negative = 0;
  for (uint16_t c : s.block_scales) negative += c >> 7;
  EXPECT_GT(negative, s.block_scales.size() / 2);
  const auto du = decode(u), ds = decode(s);
  EXPECT_GT(measure_quality(w.data(), ds.data(), 8, 256).sqnr_db, measure_quality(w.data(), du.data(), 8, 256).sqnr_db);
}

TEST(SopQuantize, OutliersReduceErrorAndAreCountedInBpw) {
  const uint64_t seed = testing::fresh_seed();
  const auto w = sop_test::llm_like(64, 512, seed);
  const QuantizedLayer a = quantize(w, 64, 512, "nf4.ue4m4.b16");
  const QuantizedLayer b = quantize(w, 64, 512, "nf4.ue4m4.b16+o1");
  EXPECT_EQ(b.outliers.count(), uint64_t(std::llround(0.01 * 64 * 512)));
  const auto da = decode(a), db = decode(b);
  EXPECT_GT(measure_quality(w.data(), db.data(), 64, 512).sqnr_db,
            measure_quality(w.data(), da.data(), 64, 512).sqnr_db + 0.5);
  // 32 bits per entry (u16 column + fp16 value), 32 per row pointer, the
  // section framing (tag, length, CRC) and the 3 longer format name bytes.
  EXPECT_EQ(stored_bits(b) - stored_bits(a), 32 * b.outliers.count() + 32 * 65 + 128 + 24);
}

TEST(SopQuantize, PairSearchKeepsTheBestPair) {
  const uint64_t seed = testing::fresh_seed();
  const auto w = sop_test::llm_like(32, 256, seed);
  SopChoice ch, fixed;
  quantize(w, 32, 256, "pair(auto).ue4m3.b16", &ch);
  EXPECT_EQ(ch.configs_tried, 21u);
  EXPECT_FALSE(ch.format.pair_search);
  EXPECT_FALSE(ch.act_weighted);
  // Every single pair, measured on the same rows (all 32 <= search_rows), is no better.
  for (const char* p : {"pair(nf4,dd4).ue4m3.b16", "pair(e2m1,int4).ue4m3.b16", "pair(nf4,sh4).ue4m3.b16"}) {
    quantize(w, 32, 256, p, &fixed);
    EXPECT_LE(ch.acos_error, fixed.acos_error * (1 + 1e-12)) << p;
  }
}

TEST(SopQuantize, ValidateRejectsBrokenSopLayers) {
  const auto w = sop_test::gaussian(4, 64, testing::fresh_seed());
  const QuantizedLayer good = quantize(w, 4, 64, "pair(nf4,dd4).ue4m3.b16");
  auto expect_bad = [](QuantizedLayer l, const char* why) {
    try {
      validate(l);
      ADD_FAILURE() << "accepted: " << why;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput) << why;
    }
  };
  QuantizedLayer l = good;
  l.group = 12;
  l.block_scales.resize(4 * 6);
  expect_bad(l, "block size 12");
  l = good;
  l.block_scales[0] = 1u << 8;
  expect_bad(l, "scale code wider than 8 bits");
  l = good;
  l.codebooks.resize(16);
  expect_bad(l, "paired layer with one codebook");
  l = good;
  l.layer_scale_exp = 101;
  expect_bad(l, "layer exponent out of range");
  l = good;
  l.sop_scale_mant_bits = 5;
  expect_bad(l, "mantissa bits 5");
  QuantizedLayer nf = good;
  nf.scheme = Scheme::kXfpV2;
  expect_bad(nf, "sop fields on another scheme");
}

TEST(SopQuantize, NonFiniteWeightsAreBadInput) {
  auto w = sop_test::gaussian(4, 64, testing::fresh_seed());
  w[77] = NAN;
  try {
    quantize(w, 4, 64, "e2m3.ue4m4.b16");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
  }
}

}  // namespace
}  // namespace lutc

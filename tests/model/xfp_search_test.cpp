// The XFP auto-select: floors met (checked on the golden decode), the
// cheapest configuration chosen, shortfall reported, real weights.
#include <gtest/gtest.h>

#include <cmath>

#include "lutc/model/error.h"
#include "lutc/model/quantize.h"
#include "lutc/model/roles.h"
#include "lutc/model/weights.h"
#include "lutc/model/xfp_file.h"
#include "test_data.h"
#include "xfp_test_util.h"

namespace lutc {
namespace {

XfpOptions search(double strict, double lazy, bool both_modes) {
  XfpOptions o;
  o.bits = 0;
  o.floor_strict = strict;
  o.floor_lazy = lazy;
  o.auto_mode = both_modes;
  return o;
}

// Stored bits without the layer header, which is identical across candidates.
uint64_t body_bits(const QuantizedLayer& l) {
  QuantizedLayer h = l;
  const uint64_t all = stored_bits(l);
  h.indices.clear(), h.codebooks.clear(), h.group_ids.clear(), h.outliers = OutlierCsr{};
  return all - stored_bits(h);
}

TEST(XfpSearch, FloorsMetOnFreshLlmLikeMatrices) {
  const uint64_t seed = testing::fresh_seed();
  const uint32_t rows = 96, cols = 1024;
  const auto w = xfp_test::llm_like(rows, cols, seed, 0.02);
  for (Role role : {Role::kAttention, Role::kRoutedExpert}) {
    for (bool both : {false, true}) {
      XfpChoice ch;
      const XfpOptions o = search(0.995, 0.98, both);
      const QuantizedLayer l = quantize_xfp("s", role, w.data(), rows, cols, o, &ch);
      validate(l);
      xfp_test::expect_csr_valid(l);
      const double floor = role_uses_lazy_floor(role) ? 0.98 : 0.995;
      EXPECT_EQ(ch.floor, floor);
      const auto wh = xfp_test::decode_checked(l);
      const QualityStats q = measure_quality(w.data(), wh.data(), rows, cols, floor);
      EXPECT_TRUE(ch.floor_met);
      EXPECT_EQ(q.rows_below_floor, 0u) << "worst row " << q.worst_row << " cos " << q.cos_min;
      EXPECT_GE(q.cos_min, floor);
      EXPECT_EQ(l.params.at("floor_met"), "1");
      EXPECT_EQ(ch.bits, l.bits);
      EXPECT_EQ(ch.mode, l.scheme);
      EXPECT_NEAR(ch.outlier_fraction, double(l.outliers.count()) / l.elements(), 1e-12);
      EXPECT_GE(ch.configs_tried, 2u);
      // No narrower index meets the floor in the same mode without outliers.
      if (ch.bits > 2) {
        XfpOptions f;
        f.mode = ch.mode;
        f.bits = ch.bits == 8 ? 6 : ch.bits - 1;
        const QuantizedLayer n = quantize_xfp("s", role, w.data(), rows, cols, f);
        const auto nh = xfp_test::decode_checked(n);
        EXPECT_LT(measure_quality(w.data(), nh.data(), rows, cols).cos_min, floor);
      }
      // The search's cost model is the container's.
      EXPECT_EQ(body_bits(l), xfp::xfp_cost_bits(l.scheme, rows, cols, l.bits, l.group, l.outliers.count()));
    }
  }
}

TEST(XfpSearch, LazyFloorIsCheaperThanStrict) {
  const uint64_t seed = testing::fresh_seed();
  const uint32_t rows = 64, cols = 2048;
  const auto w = xfp_test::llm_like(rows, cols, seed);
  const XfpOptions o = search(0.995, 0.97, false);
  const QuantizedLayer strict = quantize_xfp("s", Role::kSharedExpert, w.data(), rows, cols, o);
  const QuantizedLayer lazy = quantize_xfp("l", Role::kRoutedExpert, w.data(), rows, cols, o);
  EXPECT_LT(effective_bpw(lazy), effective_bpw(strict));
}

TEST(XfpSearch, UnreachableFloorReportsShortfall) {
  const uint64_t seed = testing::fresh_seed();
  const uint32_t rows = 32, cols = 512;
  const auto w = xfp_test::llm_like(rows, cols, seed);
  XfpOptions o = search(0.99999, 0.99999, false);
  o.max_bits = 3;
  XfpChoice ch;
  const QuantizedLayer l = quantize_xfp("u", Role::kAttention, w.data(), rows, cols, o, &ch);
  validate(l);
  EXPECT_FALSE(ch.floor_met);
  EXPECT_EQ(ch.bits, 3u);  // the best available
  EXPECT_EQ(l.params.at("floor_met"), "0");
  const auto wh = xfp_test::decode_checked(l);
  const QualityStats q = measure_quality(w.data(), wh.data(), rows, cols, 0.99999);
  EXPECT_GT(q.rows_below_floor, 0u);
  EXPECT_NEAR(ch.shortfall, 0.99999 - q.cos_min, 1e-9);
  EXPECT_GT(ch.outlier_fraction, 0.05);  // outliers at the cap were tried
}

TEST(XfpSearch, ThreadCountDoesNotChangeTheResult) {
  const uint64_t seed = testing::fresh_seed();
  const uint32_t rows = 37, cols = 640;
  const auto w = xfp_test::llm_like(rows, cols, seed, 0.05);
  XfpOptions o = search(0.99, 0.98, true);
  const QuantizedLayer a = quantize_xfp("t", Role::kAttention, w.data(), rows, cols, o);
  o.threads = 3;
  const QuantizedLayer b = quantize_xfp("t", Role::kAttention, w.data(), rows, cols, o);
  EXPECT_EQ(serialize_layer(a), serialize_layer(b));
}

TEST(XfpSearch, RejectsBadInput) {
  std::vector<float> w(64, 0.5f);
  XfpOptions o;
  o.bits = 7;
  EXPECT_THROW(quantize_xfp("x", Role::kOther, w.data(), 4, 16, o), Error);
  o.bits = 4;
  w[17] = std::nanf("");
  EXPECT_THROW(quantize_xfp("x", Role::kOther, w.data(), 4, 16, o), Error);
}

TEST(XfpSearch, Stories260KFloorsMet) {
  const std::string path = testing::shared_data("stories260K/stories260K.safetensors");
  if (!testing::require_file(path)) return;
  auto f = WeightFile::open(path);
  RoleRules rules;
  int matrices = 0;
  for (const TensorInfo& t : f->tensors()) {
    if (!t.is_matrix()) continue;
    const auto w = f->read_all(t);
    const uint32_t rows = uint32_t(t.rows()), cols = uint32_t(t.cols());
    const Role role = rules.classify(t.name);
    for (double floor : {0.98, 0.995}) {
      XfpChoice ch;
      const QuantizedLayer l = quantize_xfp(t.name, role, w.data(), rows, cols, search(floor, floor, true), &ch);
      validate(l);
      const auto wh = xfp_test::decode_checked(l);
      const QualityStats q = measure_quality(w.data(), wh.data(), rows, cols, floor);
      EXPECT_TRUE(ch.floor_met) << t.name;
      EXPECT_EQ(q.rows_below_floor, 0u) << t.name << " cos_min " << q.cos_min;
      // 64-wide rows: per-row codebooks are a large, honestly counted share.
      EXPECT_GT(effective_bpw(l), l.bits) << t.name;
    }
    ++matrices;
  }
  EXPECT_GE(matrices, 36);
}

}  // namespace
}  // namespace lutc

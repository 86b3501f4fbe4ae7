// The scheme table (scheme.h): every row names a scheme once, parses back,
// and validate() holds a layer to its row: a fixed width or group, and no
// field the scheme does not use.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "layer_samples.h"
#include "lutc/model/error.h"
#include "lutc/model/layer.h"
#include "lutc/model/scheme.h"
#include "test_data.h"

namespace lutc {
namespace {

std::string validate_error(const QuantizedLayer& l) {
  try {
    validate(l, "t.xfp");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    return e.what();
  }
  return "";
}

TEST(SchemeTraits, EveryRowIsOneSchemeThatParsesBack) {
  std::set<int> ids;
  std::set<std::string> names;
  for (const SchemeTraits& t : kSchemeTraits) {
    EXPECT_TRUE(ids.insert(int(t.scheme)).second) << t.name;
    EXPECT_TRUE(names.insert(t.name).second) << t.name;
    Scheme back{};
    ASSERT_TRUE(parse_scheme(t.name, &back)) << t.name;
    EXPECT_EQ(back, t.scheme);
    EXPECT_STREQ(scheme_name(t.scheme), t.name);
    EXPECT_EQ(find_scheme_traits(t.scheme), &t);
    if (t.fixed_bits) {
      EXPECT_TRUE(valid_index_bits(t.fixed_bits)) << t.name;
    }
  }
  EXPECT_EQ(find_scheme_traits(Scheme(0)), nullptr);
  EXPECT_EQ(find_scheme_traits(Scheme(200)), nullptr);
  EXPECT_EQ(kV2aGroup, uint32_t(find_scheme_traits(Scheme::kXfpV2a)->fixed_group));
}

TEST(SchemeTraits, ValidateHoldsRandomLayersToTheirRow) {
  std::mt19937_64 rng(testing::fresh_seed());
  for (const SchemeTraits& t : kSchemeTraits) {
    for (int trial = 0; trial < 4; ++trial) {
      const QuantizedLayer good = testing::random_any_layer(t.scheme, rng);
      ASSERT_EQ(validate_error(good), "") << t.name;
      if (t.fixed_bits) {
        EXPECT_EQ(good.bits, t.fixed_bits) << t.name;
        QuantizedLayer l = good;
        l.bits = t.fixed_bits == 4 ? 8 : 4;
        EXPECT_NE(validate_error(l).find("bits must be " + std::to_string(t.fixed_bits)), std::string::npos) << t.name;
      }
      if (t.fixed_group >= 0) {
        EXPECT_EQ(good.group, uint32_t(t.fixed_group)) << t.name;
        QuantizedLayer l = good;
        l.group = uint32_t(t.fixed_group) + 1;
        EXPECT_NE(validate_error(l).find("group must be " + std::to_string(t.fixed_group)), std::string::npos)
            << t.name;
      }
      // A field the row says the scheme does not use is refused by name.
      auto refused = [&](bool used, const char* field, auto&& fill) {
        if (used) return;
        QuantizedLayer l = good;
        fill(l);
        EXPECT_NE(validate_error(l).find(std::string(field) + " must be empty"), std::string::npos)
            << t.name << " " << field;
      };
      refused(t.codebooks, "codebooks", [](QuantizedLayer& l) { l.codebooks.push_back(0x3c00); });
      refused(t.group_ids, "group_ids", [](QuantizedLayer& l) { l.group_ids.push_back(0); });
      refused(t.group_scales, "group_scales", [](QuantizedLayer& l) { l.group_scales.push_back(0x3c00); });
      refused(t.group_zeros, "group_zeros", [](QuantizedLayer& l) { l.group_zeros.push_back(0); });
      refused(t.block_scales, "block_scales", [](QuantizedLayer& l) { l.block_scales.push_back(0); });
      if (!t.layer_scale) {
        QuantizedLayer l = good;
        l.layer_scale_exp = 1;
        const std::string why = validate_error(l);
        EXPECT_NE(why.find("layer_scale_exp is only used by"), std::string::npos) << t.name << ": " << why;
        EXPECT_NE(why.find("fp8.e4m3"), std::string::npos) << why;
        EXPECT_NE(why.find("sop"), std::string::npos) << why;
      }
    }
  }
}

}  // namespace
}  // namespace lutc

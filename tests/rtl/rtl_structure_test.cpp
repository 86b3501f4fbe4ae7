// The RTL's structural check comes from the arch key table: every key whose
// RtlFit is not kAny is compared with the verilated value, and no other key
// can make an arch unsupported.
#include <gtest/gtest.h>

#include "lutc/compiler/arch_config.h"
#include "lutc/rtl/rtl_engine.h"

namespace lutc {
namespace {

// The verilated arch with key i set to `v`, through the parser (so the value
// must be valid).
ArchConfig verilated_with(size_t i, double v) {
  const std::vector<ArchKeyInfo>& keys = arch_keys();
  const std::vector<double> values = arch_values(rtl::verilated_arch());
  std::string text;
  for (size_t j = 0; j < keys.size(); ++j)
    text += keys[j].key + "=" + arch_value_text(keys[j], j == i ? v : values[j]) + "\n";
  return parse_arch(text, "verilated.ini");
}

TEST(RtlStructure, TheVerilatedArchIsValidAndSupported) {
  const ArchConfig v = rtl::verilated_arch();
  EXPECT_NO_THROW(validate_arch(v, "verilated"));
  EXPECT_EQ(rtl::unsupported_arch(v), "");
}

TEST(RtlStructure, EveryStructuralKeyIsCheckedAndNoOther) {
  const std::vector<ArchKeyInfo>& keys = arch_keys();
  const std::vector<double> hw = arch_values(rtl::verilated_arch());
  size_t structural = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    const ArchKeyInfo& k = keys[i];
    if (k.rtl == RtlFit::kAny) {
      // Any other valid value runs on the verilated engine.
      const double other = k.key == "act.bits" ? (hw[i] == 16 ? 8 : 16) : (hw[i] == k.lo ? k.hi : k.lo);
      EXPECT_EQ(rtl::unsupported_arch(verilated_with(i, other)), "") << k.key << "=" << other;
      continue;
    }
    ++structural;
    if (hw[i] + 1 <= k.hi) {
      const std::string why = rtl::unsupported_arch(verilated_with(i, hw[i] + 1));
      EXPECT_NE(why.find(k.key + " = " + arch_value_text(k, hw[i] + 1)), std::string::npos) << why;
      const char* rel = k.rtl == RtlFit::kExactly ? "needs == " : "needs <= ";
      EXPECT_NE(why.find(rel + arch_value_text(k, hw[i])), std::string::npos) << why;
    }
    if (hw[i] - 1 >= k.lo) {
      const std::string why = rtl::unsupported_arch(verilated_with(i, hw[i] - 1));
      if (k.rtl == RtlFit::kExactly) {
        EXPECT_NE(why.find(k.key), std::string::npos) << k.key << ": " << why;
      } else {
        EXPECT_EQ(why, "") << k.key;
      }
    }
  }
  EXPECT_GE(structural, 9u) << "lanes, banks, ports, bank words, HIF widths, accumulator and both SRAMs";
}

}  // namespace
}  // namespace lutc

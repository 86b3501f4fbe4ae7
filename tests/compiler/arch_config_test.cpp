#include <gtest/gtest.h>

#include "lutc/compiler/arch_config.h"
#include "lutc/model/error.h"

namespace lutc {
namespace {

void expect_bad(const std::string& text, const std::string& key, const std::string& needle) {
  try {
    parse_arch(text, "a.ini");
    FAIL() << "accepted: " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    const std::string m = e.what();
    EXPECT_NE(m.find("a.ini"), std::string::npos) << m;
    EXPECT_NE(m.find(key), std::string::npos) << m;
    EXPECT_NE(m.find(needle), std::string::npos) << m;
  }
}

TEST(ArchConfig, ExamplesParseAndDefaultMatchesBuiltIn) {
  const std::string dir = LUTC_EXAMPLES_ARCH;
  for (const char* n : {"edge", "default", "datacenter"}) {
    const ArchConfig a = load_arch(dir + "/" + n + ".ini");
    EXPECT_EQ(a.name, n);
  }
  EXPECT_EQ(canonical_arch_text(load_arch(dir + "/default.ini")), canonical_arch_text(default_arch()));
  EXPECT_NE(arch_hash(load_arch(dir + "/edge.ini")), arch_hash(default_arch()));
}

TEST(ArchConfig, HashIgnoresLayoutButNotValues) {
  const ArchConfig a = parse_arch("[core]\nlanes = 8\n[hif]\nmant_bits=9\n", "a.ini");
  const ArchConfig b = parse_arch("# comment\n[hif]\n  mant_bits =   9.0\n[core]\nlanes=8 # eight\n", "b.ini");
  EXPECT_EQ(arch_hash(a), arch_hash(b));
  EXPECT_EQ(canonical_arch_text(a), canonical_arch_text(b));
  const ArchConfig c = parse_arch("[core]\nlanes = 9\n[hif]\nmant_bits=9\n", "c.ini");
  EXPECT_NE(arch_hash(a), arch_hash(c));
  EXPECT_EQ(parse_arch("[core]\nlanes = 8\n[hif]\nmant_bits=9\n", "a.ini").lanes, 8u);
}

TEST(ArchConfig, ErrorsNameFileKeyAndConstraint) {
  expect_bad("[core]\nlanse = 4\n", "core.lanse", "unknown key");
  expect_bad("[core]\nlanes = 0\n", "core.lanes", "outside [1, 4096]");
  expect_bad("[core]\nlanes = 2.5\n", "core.lanes", "not a non-negative integer");
  expect_bad("[core]\nlanes = many\n", "core.lanes", "not a number");
  expect_bad("[core]\nlanes = 4\nlanes = 8\n", "core.lanes", "more than once");
  expect_bad("[act]\nbits = 12\n", "act.bits", "8 or 16");
  expect_bad("[hif]\nmant_bits = 14\n", "hif.mant_bits", "outside [2, 13]");
  expect_bad("[energy]\ndram_byte_pj = -1\n", "energy.dram_byte_pj", "outside");
  expect_bad("[lut]\nbank_words = 2\n", "lut.bank_words", "outside [4,");
}

TEST(ArchConfig, MissingFileIsAnIoError) {
  try {
    load_arch("/nonexistent/x.ini");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo);
  }
}

}  // namespace
}  // namespace lutc

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

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

// The key table is the defaults: a default-constructed ArchConfig, the
// table's default column and default_arch() agree key by key.
TEST(ArchKeys, TheTableIsTheBuiltInDefault) {
  const std::vector<double> built_in = arch_values(default_arch()), constructed = arch_values(ArchConfig{});
  ASSERT_EQ(built_in.size(), arch_keys().size());
  for (size_t i = 0; i < built_in.size(); ++i) {
    EXPECT_EQ(built_in[i], arch_keys()[i].default_value) << arch_keys()[i].key;
    EXPECT_EQ(constructed[i], built_in[i]) << arch_keys()[i].key;
  }
  EXPECT_EQ(default_arch().name, "default");
}

// Every row is usable: in range, named "section.key" once, with help, and a
// column (when it has one) that no other key uses.
TEST(ArchKeys, EveryRowIsWellFormed) {
  std::set<std::string> keys, columns;
  for (const ArchKeyInfo& k : arch_keys()) {
    EXPECT_TRUE(keys.insert(k.key).second) << k.key;
    EXPECT_NE(k.key.find('.'), std::string::npos) << k.key;
    EXPECT_FALSE(k.help.empty()) << k.key;
    EXPECT_LE(k.lo, k.default_value) << k.key;
    EXPECT_LE(k.default_value, k.hi) << k.key;
    if (!k.column.empty()) {
      EXPECT_TRUE(columns.insert(k.column).second) << k.column;
    }
    // Structural keys are whole numbers: the RTL holds them as parameters.
    if (k.rtl != RtlFit::kAny) {
      EXPECT_TRUE(k.integer) << k.key;
    }
  }
}

// examples/arch/default.ini lists every key ("Every key is listed"), and
// docs/arch.md names every key outside the energy table.
TEST(ArchKeys, EveryKeyIsInDefaultIniAndTheDocs) {
  std::ifstream ini(std::string(LUTC_EXAMPLES_ARCH) + "/default.ini");
  ASSERT_TRUE(ini) << LUTC_EXAMPLES_ARCH;
  std::set<std::string> listed;
  std::string line, section;
  while (std::getline(ini, line)) {
    line = line.substr(0, line.find('#'));
    const size_t b = line.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    if (line[b] == '[') {
      section = line.substr(b + 1, line.find(']') - b - 1);
    } else {
      const std::string name = line.substr(b, line.find_first_of(" =", b) - b);
      listed.insert(section + "." + name);
    }
  }
  std::ifstream doc_file(LUTC_DOCS_DIR "/arch.md");
  ASSERT_TRUE(doc_file) << LUTC_DOCS_DIR;
  std::stringstream docs;
  docs << doc_file.rdbuf();
  for (const ArchKeyInfo& k : arch_keys()) {
    EXPECT_TRUE(listed.count(k.key)) << k.key << " is missing from examples/arch/default.ini";
    if (k.key.rfind("energy.", 0) != 0) {
      EXPECT_NE(docs.str().find("`" + k.key + "`"), std::string::npos) << k.key << " is missing from docs/arch.md";
    }
  }
  EXPECT_EQ(listed.size(), arch_keys().size()) << "default.ini lists a key the table lacks";
}

// A key hashed only when set leaves the canonical text (and so every hash
// and stored .lutp) unchanged at its default, and joins it when set.
TEST(ArchKeys, KeysHashedUnlessDefaultAppearOnlyWhenSet) {
  const std::string base = canonical_arch_text(default_arch());
  for (const ArchKeyInfo& k : arch_keys()) {
    const bool listed = base.find(k.key + "=") != std::string::npos;
    EXPECT_EQ(listed, k.hash == ArchKeyHash::kAlways) << k.key;
  }
}

}  // namespace
}  // namespace lutc

// What a program depends on (docs/arch.md): every arch key has a role, the
// code key covers exactly the kCode keys, and a program re-targeted to an
// arch with the same code key is byte for byte the program compile_layer
// writes for that arch (or fails with the same words).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>

#include "compiler_test_layers.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/error.h"
#include "test_data.h"

namespace lutc {
namespace {

using R = ArchKeyRole;

// Written out by hand on purpose: a key added to the arch table fails this
// test until someone decides, by reading the compiler, which role it has.
const std::map<std::string, ArchKeyRole> kExpectedRoles = {
    {"core.lanes", R::kCode},
    {"core.clock_mhz", R::kTiming},
    {"core.acc_bits", R::kLimit},
    {"lut.banks", R::kCode},
    {"lut.ports", R::kTiming},
    {"lut.bank_words", R::kCode},
    {"hif.mant_bits", R::kCode},
    {"hif.shift_bits", R::kCode},
    {"act.bits", R::kCode},
    {"sram.weight_kib", R::kCode},
    {"sram.act_kib", R::kCode},
    {"dram.bytes_per_cycle", R::kTiming},
    {"dram.latency_cycles", R::kTiming},
    {"dram.refresh_overhead", R::kTiming},
    {"energy.dram_byte_pj", R::kTiming},
    {"energy.sram_read_64b_8kib_pj", R::kTiming},
    {"energy.sram_read_64b_32kib_pj", R::kTiming},
    {"energy.sram_read_64b_1mib_pj", R::kTiming},
    {"energy.sram_write_factor", R::kTiming},
    {"energy.lut_read_pj", R::kTiming},
    {"energy.mult_8b_pj", R::kTiming},
    {"energy.mult_16b_pj", R::kTiming},
    {"energy.add_32b_pj", R::kTiming},
    {"energy.acc_add_pj", R::kTiming},
    {"energy.outlier_op_pj", R::kTiming},
    {"energy.leakage_pj_per_cycle", R::kTiming},
    {"energy.node_scale", R::kTiming},
    {"energy.node_nm", R::kTiming},
};

// "section.key=value" for every key of `a`, from its canonical text.
std::map<std::string, std::string> values_of(const ArchConfig& a) {
  std::map<std::string, std::string> out;
  const std::string t = canonical_arch_text(a);
  for (size_t i = 0; i < t.size();) {
    const size_t e = t.find('\n', i), eq = t.find('=', i);
    out[t.substr(i, eq - i)] = t.substr(eq + 1, e - eq - 1);
    i = e + 1;
  }
  return out;
}

// `base` (as override lines) with `key` set to `value`.
ArchConfig with(std::vector<std::string> base, const std::string& key, const std::string& value) {
  base.push_back(key + "=" + value);
  return testing::arch_with(base);
}

// A valid value of `k` other than `current`.
std::string other_value(const ArchKeyInfo& k, double current) {
  if (k.key == "act.bits") return current == 16 ? "8" : "16";
  double v = current == 0 ? std::min(1.0, k.hi) : current * 2;
  if (v > k.hi) v = current / 2;
  if (k.integer) v = std::floor(v);
  if (v < k.lo || v == current) v = k.lo != current ? k.lo : k.integer ? k.lo + 1 : (k.lo + k.hi) / 2;
  char b[64];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

// A random valid value of `k`: integers uniform, reals log-uniform with all their digits.
std::string random_value(const ArchKeyInfo& k, std::mt19937_64& rng) {
  char b[64];
  if (k.integer) {
    std::uniform_int_distribution<uint64_t> d(uint64_t(k.lo), uint64_t(std::min(k.hi, 1e6)));
    std::snprintf(b, sizeof b, "%llu", (unsigned long long)d(rng));
  } else {
    const double lo = std::max(k.lo, 1e-3), hi = std::min(k.hi, 1e5);
    std::uniform_real_distribution<double> d(std::log(lo), std::log(hi));
    std::snprintf(b, sizeof b, "%.17g", std::clamp(std::exp(d(rng)), k.lo, k.hi));
  }
  return b;
}

TEST(ArchKeys, EveryKeyHasTheRoleTheCompilerGivesIt) {
  const std::vector<ArchKeyInfo>& keys = arch_keys();
  std::map<std::string, ArchKeyRole> got;
  for (const auto& k : keys) EXPECT_TRUE(got.emplace(k.key, k.role).second) << "key listed twice: " << k.key;
  for (const auto& [key, role] : got) {
    auto it = kExpectedRoles.find(key);
    ASSERT_NE(it, kExpectedRoles.end()) << "arch key '" << key
                                        << "' has no role in this test: read compile_layer and the .lutp writer, "
                                           "decide whether it shapes the program, and add it here and to docs/arch.md";
    EXPECT_EQ(int(role), int(it->second)) << key;
  }
  EXPECT_EQ(got.size(), kExpectedRoles.size()) << "a key of this test is no longer an arch key";
  // The table that parses and hashes keys is the one that gives roles: the
  // canonical text lists each key hashed always, and only table keys.
  size_t always = 0;
  for (const auto& k : keys) always += k.hash == ArchKeyHash::kAlways;
  EXPECT_EQ(values_of(default_arch()).size(), always);
  for (const auto& [key, v] : values_of(default_arch())) EXPECT_TRUE(got.count(key)) << key;
}

TEST(ArchKeys, TheCodeKeyChangesWithEveryCodeKeyAndWithNoOther) {
  const ArchConfig base = default_arch();
  const std::vector<double> defaults = arch_values(base);
  for (size_t i = 0; i < arch_keys().size(); ++i) {
    const ArchKeyInfo& k = arch_keys()[i];
    const std::string v = other_value(k, defaults[i]);
    const ArchConfig a = with({}, k.key, v);
    EXPECT_NE(arch_hash(a), arch_hash(base)) << k.key << "=" << v;
    if (k.role == ArchKeyRole::kCode) {
      EXPECT_NE(arch_code_key(a), arch_code_key(base)) << k.key << "=" << v;
      EXPECT_NE(arch_code_text(a).find(k.key + "=" + v + "\n"), std::string::npos) << arch_code_text(a);
    } else {
      EXPECT_EQ(arch_code_key(a), arch_code_key(base)) << k.key << "=" << v;
      EXPECT_EQ(arch_code_text(a).find(k.key + "="), std::string::npos) << k.key;
    }
  }
}

struct Case {
  Scheme scheme;
  uint32_t rows, cols, group;
};

// Archs that shape code differently: one tile, many small double-buffered
// tiles with column chunks, lossy HIF with 8-bit activations.
const std::vector<std::vector<std::string>> kBases = {
    {},
    {"core.lanes=8", "sram.weight_kib=1", "sram.act_kib=1", "lut.banks=4", "lut.bank_words=512"},
    {"core.lanes=3", "hif.mant_bits=6", "hif.shift_bits=2", "act.bits=8", "sram.weight_kib=2"},
};

void expect_same_failure(const std::function<void()>& fresh, const std::function<void()>& retargeted,
                         const std::string& what) {
  std::string a, b;
  ExitCode ca = ExitCode::kOk, cb = ExitCode::kOk;
  try {
    fresh();
  } catch (const Error& e) {
    a = e.what();
    ca = e.code();
  }
  try {
    retargeted();
  } catch (const Error& e) {
    b = e.what();
    cb = e.code();
  }
  EXPECT_FALSE(a.empty()) << what;
  EXPECT_EQ(a, b) << what;
  EXPECT_EQ(int(ca), int(cb)) << what;
}

TEST(Retarget, GivesTheBytesOfAFreshCompileForRandomArchsWithTheSameCodeKey) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::vector<Case> cases = {
      {Scheme::kXfpV2, 40, 300, 64},   {Scheme::kXfpV2, 17, 130, 0}, {Scheme::kXfpV2a, 40, 300, 0},
      {Scheme::kInt4G128, 40, 300, 0}, {Scheme::kSop, 40, 304, 0},   {Scheme::kNf4B64, 24, 256, 0},
      {Scheme::kFp8E4M3, 24, 200, 0},
  };
  const std::vector<ArchKeyInfo>& keys = arch_keys();
  size_t compared = 0, refused = 0;
  for (const Case& c : cases) {
    const std::vector<float> w = testing::random_weights(c.rows, c.cols, rng);
    const QuantizedLayer l = testing::quantize_for_test(c.scheme, "blk.0.t", w.data(), c.rows, c.cols, c.group);
    for (const auto& base_lines : kBases) {
      const ArchConfig base = testing::arch_with(base_lines);
      Program src;
      try {
        src = compile_layer_for_code(l, base);
      } catch (const Error&) {
        continue;  // this layer does not fit this code shape; other bases cover it
      }
      const std::vector<uint8_t> src_bytes = serialize_lutp(src);
      for (int trial = 0; trial < 6; ++trial) {
        // Every key that is not kCode drawn at random, the accumulator now and then too narrow.
        std::vector<std::string> lines = base_lines;
        for (const ArchKeyInfo& k : keys) {
          if (k.role == ArchKeyRole::kCode) continue;
          std::string v = random_value(k, rng);
          const uint32_t need = src.meta.acc_bits_needed;
          if (k.key == "core.acc_bits")
            v = std::to_string(trial % 3 == 2 && need > 32
                                   ? need - 1
                                   : std::uniform_int_distribution<uint32_t>(std::max<uint32_t>(32, need), 128)(rng));
          lines.push_back(k.key + "=" + v);
        }
        const ArchConfig b = testing::arch_with(lines);
        const std::string what = std::string(scheme_name(c.scheme)) + " " + std::to_string(c.rows) + "x" +
                                 std::to_string(c.cols) + " -> " + canonical_arch_text(b);
        ASSERT_EQ(arch_code_key(b), arch_code_key(base));
        if (b.acc_bits < src.meta.acc_bits_needed) {
          expect_same_failure([&] { compile_layer(l, b); }, [&] { retarget(src, b); }, what);
          expect_same_failure([&] { compile_layer(l, b); }, [&] { retarget_lutp(src_bytes, b, "x.lutp"); }, what);
          ++refused;
          continue;
        }
        const std::vector<uint8_t> fresh = serialize_lutp(compile_layer(l, b));
        ASSERT_EQ(serialize_lutp(retarget(src, b)), fresh) << what;
        ASSERT_EQ(retarget_lutp(src_bytes, b, "x.lutp"), fresh) << what;
        const LutpRetarget head = retarget_lutp_head(src_bytes.data(), src_bytes.size(), b, "x.lutp");
        EXPECT_EQ(fresh.size(), head.head.size() + src_bytes.size() - head.tail);
        // The re-targeted program is a valid program for its arch.
        EXPECT_EQ(parse_lutp(fresh.data(), fresh.size(), "x.lutp").arch_hash, arch_hash(b));
        ++compared;
      }
    }
  }
  EXPECT_GE(compared, 40u);  // of 84 (7 layers x 3 code shapes x 4)
  EXPECT_GE(refused, 12u);   // of 42
}

TEST(Retarget, ALayerTheCodeShapeCannotHoldFailsAlikeForEveryArchOfThatShape) {
  std::mt19937_64 rng(3);
  const std::vector<float> w = testing::random_weights(16, 256, rng);
  const QuantizedLayer l = testing::quantize_for_test(Scheme::kXfpV2, "blk.0.big", w.data(), 16, 256, 0);
  const ArchConfig a = testing::arch_with({"lut.bank_words=8"}),
                   b = testing::arch_with(
                       {"lut.bank_words=8", "dram.bytes_per_cycle=3.25", "core.clock_mhz=77", "core.acc_bits=33"});
  expect_same_failure([&] { compile_layer_for_code(l, a); }, [&] { compile_layer(l, b); }, "LUT too small");
}

TEST(Retarget, RefusesAnArchThatDiffersInACodeKeyAndNamesTheKey) {
  std::mt19937_64 rng(5);
  const std::vector<float> w = testing::random_weights(8, 128, rng);
  const QuantizedLayer l = testing::quantize_for_test(Scheme::kInt4G128, "blk.0.k", w.data(), 8, 128, 0);
  const Program p = compile_layer(l, default_arch());
  const std::vector<uint8_t> bytes = serialize_lutp(p);
  const std::vector<double> defaults = arch_values(default_arch());
  for (size_t i = 0; i < arch_keys().size(); ++i) {
    const ArchKeyInfo& k = arch_keys()[i];
    if (k.role != ArchKeyRole::kCode) continue;
    const ArchConfig other = with({}, k.key, other_value(k, defaults[i]));
    for (int form = 0; form < 2; ++form) {
      try {
        if (form == 0)
          retarget(p, other);
        else
          retarget_lutp(bytes, other, "x.lutp");
        FAIL() << "re-targeted across " << k.key;
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), ExitCode::kBadInput);
        EXPECT_NE(std::string(e.what()).find(k.key), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("shape the code"), std::string::npos) << e.what();
      }
    }
  }
  // Not a program: a clear error, no crash. Only the header and META are read.
  const size_t meta_end = retarget_lutp_head(bytes.data(), bytes.size(), default_arch(), "x.lutp").tail;
  for (size_t n = 0; n < meta_end; ++n)
    EXPECT_THROW(retarget_lutp_head(bytes.data(), n, default_arch(), "short.lutp"), Error) << n;
  std::vector<uint8_t> bad = bytes;
  bad[40] ^= 1;  // inside META: the CRC no longer matches
  EXPECT_THROW(retarget_lutp(bad, default_arch(), "flip.lutp"), Error);
}

}  // namespace
}  // namespace lutc

// The .lutp reader rejects every malformed file with Error(kBadInput) and a
// message naming the file; never crashes, never accepts a changed program.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "compiler_test_layers.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/listing.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/error.h"
#include "lutc/model/xfp_file.h"
#include "test_data.h"

namespace lutc {
namespace {

Program small_program(Scheme s = Scheme::kInt4G128) {
  std::mt19937_64 rng(7);
  const std::vector<float> w = testing::random_weights(3, 150, rng);
  const QuantizedLayer l = testing::quantize_for_test(s, "blk.0.small", w.data(), 3, 150, 64);
  return compile_layer(l, testing::arch_with({"core.lanes=2"}));
}

void expect_bad(const std::vector<uint8_t>& b, const std::string& needle) {
  try {
    parse_lutp(b.data(), b.size(), "bad.lutp");
    FAIL() << "accepted a malformed program (expected: " << needle << ")";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find("bad.lutp"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// Section payload offsets: 16-byte file header, then tag(4) len(8) payload crc(4).
std::vector<std::pair<size_t, size_t>> sections(const std::vector<uint8_t>& b) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t at = 16;
  for (int i = 0; i < 4; ++i) {
    uint64_t len;
    std::memcpy(&len, b.data() + at + 4, 8);
    out.push_back({at + 12, size_t(len)});
    at += 12 + len + 4;
  }
  return out;
}
void fix_crcs(std::vector<uint8_t>& b) {
  for (auto [at, len] : sections(b)) {
    const uint32_t c = crc32(b.data() + at, len);
    std::memcpy(b.data() + at + len, &c, 4);
  }
}
size_t code_at(const std::vector<uint8_t>& b, size_t insn) { return sections(b)[3].first + 4 + 32 * insn; }

TEST(LutpFile, RoundTripIsExact) {
  for (Scheme s : testing::compiled_schemes()) {
    const Program p = small_program(s);
    const std::vector<uint8_t> b = serialize_lutp(p);
    const Program q = parse_lutp(b.data(), b.size(), "x.lutp");
    EXPECT_EQ(serialize_lutp(q), b);
    EXPECT_EQ(program_listing(q), program_listing(p));
  }
}

TEST(LutpFile, TruncatedAtEveryOffset) {
  const std::vector<uint8_t> b = serialize_lutp(small_program());
  for (size_t n = 0; n < b.size(); ++n) {
    const std::vector<uint8_t> t(b.begin(), b.begin() + n);
    try {
      parse_lutp(t.data(), t.size(), "cut.lutp");
      FAIL() << "accepted a file cut at " << n;
    } catch (const Error& e) {
      ASSERT_EQ(e.code(), ExitCode::kBadInput) << e.what();
      ASSERT_NE(std::string(e.what()).find("cut.lutp"), std::string::npos) << e.what();
    }
  }
}

TEST(LutpFile, EveryFlippedByteIsRejectedOrHarmless) {
  // A CRC per section: flipping any byte of a payload, length or tag fails.
  const std::vector<uint8_t> b = serialize_lutp(small_program());
  std::mt19937_64 rng(testing::fresh_seed());
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> t = b;
    t[rng() % t.size()] ^= uint8_t(1 + rng() % 255);
    EXPECT_THROW(parse_lutp(t.data(), t.size(), "flip.lutp"), Error);
  }
}

TEST(LutpFile, WrongMagicVersionAndTrailingBytes) {
  std::vector<uint8_t> b = serialize_lutp(small_program());
  std::vector<uint8_t> m = b;
  m[0] = 'X';
  expect_bad(m, "bad magic");
  std::vector<uint8_t> v = b;
  v[8] = 9;
  expect_bad(v, "version 9");
  std::vector<uint8_t> t = b;
  t.push_back(0);
  expect_bad(t, "trailing");
}

TEST(LutpFile, UnknownOpcodeNonZeroReservedAndUnusedFields) {
  const std::vector<uint8_t> b = serialize_lutp(small_program());
  std::vector<uint8_t> op = b;
  op[code_at(op, 0)] = 0x7f;
  fix_crcs(op);
  expect_bad(op, "unknown opcode 0x7f");
  std::vector<uint8_t> res = b;
  res[code_at(res, 0) + 2] = 1;
  fix_crcs(res);
  expect_bad(res, "reserved");
  std::vector<uint8_t> unused = b;
  unused[code_at(unused, 0) + 4 + 4 * 6] = 1;  // CFG has no f6
  fix_crcs(unused);
  expect_bad(unused, "unused field");
}

TEST(LutpFile, OutOfRangeAddressesAndFields) {
  const Program p = small_program();
  auto with = [&](auto change) {
    Program q = p;
    change(q);
    return serialize_lutp(q);
  };
  auto find = [&](const Program& q, isa::Op op) {
    for (size_t i = 0; i < q.code.size(); ++i)
      if (q.code[i].op == op) return i;
    return size_t(0);
  };
  expect_bad(with([&](Program& q) { q.code[find(q, isa::Op::DECODE_MAC)].f[3] = 0xfffffff0u; }), "indices");
  expect_bad(with([&](Program& q) { q.code[find(q, isa::Op::DECODE_MAC)].f[0] = 3; }), "lanes");
  expect_bad(with([&](Program& q) { q.code[find(q, isa::Op::DMA_IN)].f[1] = 1u << 30; }), "DRAM segment");
  expect_bad(with([&](Program& q) { q.code[find(q, isa::Op::DMA_IN)].f[0] = 9; }), "unknown segment");
  expect_bad(with([&](Program& q) { q.code[find(q, isa::Op::STORE)].f[0] = 3; }), "output rows");
  expect_bad(with([&](Program& q) { q.code[find(q, isa::Op::LUT_LOAD)].f[1] = 100; }), "LUT records");
  expect_bad(with([&](Program& q) { q.lut_image[0].bank = 99; }), "lut.banks");
  expect_bad(with([&](Program& q) { q.lut_image[0].words[0] = 1u << 20; }), "wider");
  expect_bad(with([&](Program& q) {
               q.code[0] = isa::Instruction{isa::Op::CFG, {42, 0, 0, 0, 0, 0, 0}};
             }),
             "unknown layer register");
  expect_bad(with([&](Program& q) { q.code.pop_back(); }), "END");
  expect_bad(with([&](Program& q) { q.arch_text += "x"; }), "embedded arch");
  expect_bad(with([&](Program& q) { q.arch_hash ^= 1; }), "arch hash");
}

TEST(LutpFile, ArchMismatchAndAtomicFiles) {
  const std::string dir = testing::temp_dir();
  const std::string path = dir + "/p.lutp";
  const Program p = small_program();
  write_lutp(path, p);
  EXPECT_NO_THROW(read_lutp(path, p.arch));
  try {
    read_lutp(path, default_arch());
    FAIL() << "accepted a program for another arch";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find("arch hash"), std::string::npos) << e.what();
  }
  for (const auto& e : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(e.path().filename(), "p.lutp") << "left a temp file behind";
  EXPECT_THROW(read_lutp(dir + "/missing.lutp"), Error);
}

}  // namespace
}  // namespace lutc

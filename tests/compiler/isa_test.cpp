// The ISA table and its encoding: named operands agree with the table's
// field names, encode/decode round-trip fresh random instructions, the
// decoder refuses what the format forbids, and the SystemVerilog package
// carries the same facts (field indices, register count, SYNC bits, the
// metadata record rule of lutc/spec).
#include "lutc/compiler/isa.h"

#include <random>
#include <string>

#include <gtest/gtest.h>

#include "lutc/spec/meta_record.h"

namespace lutc {
namespace {

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = char(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

// Every operand enumerator indexes the field of the same name in op_info;
// the fields after the operands are unused.
TEST(Isa, NamedOperandsMatchTheTableFields) {
  unsigned ops = 0;
#define LUTC_OP(name, code, summary, ...)                                \
  {                                                                      \
    const isa::OpInfo& info = isa::op_info(isa::Op::name);               \
    const std::string list = #__VA_ARGS__;                               \
    std::string rebuilt;                                                 \
    for (unsigned i = 0; i < isa::kFields && info.fields[i] != "-"; ++i) \
      rebuilt += (i ? ", " : "") + std::string(info.fields[i]);          \
    EXPECT_EQ(rebuilt, list) << #name;                                   \
    EXPECT_EQ(unsigned(info.op), unsigned(code)) << #name;               \
    ++ops;                                                               \
  }
#include "lutc/compiler/isa.def"
  EXPECT_EQ(ops, 8u);
  EXPECT_EQ(isa::op_info(isa::Op::DECODE_MAC).fields[isa::fields::DECODE_MAC::k0], "k0");
  EXPECT_EQ(isa::op_info(isa::Op::DECODE_MAC).fields[isa::fields::DECODE_MAC::act], "act");
  EXPECT_EQ(isa::op_info(isa::Op::DMA_IN).fields[isa::fields::DMA_IN::bytes], "bytes");
  EXPECT_EQ(isa::op_info(isa::Op::STORE).fields[isa::fields::STORE::rows], "rows");
  EXPECT_EQ(isa::op_info(isa::Op::SYNC).fields[isa::fields::SYNC::mask], "mask");
  EXPECT_EQ(isa::kSyncMaskAll, isa::sync_bit(isa::SyncUnit::DMA) | isa::sync_bit(isa::SyncUnit::LUT));
  EXPECT_EQ(isa::kCfgRegCount, 6u);
  EXPECT_EQ(isa::kSegmentCount, 4u);
}

TEST(Isa, RandomInstructionsRoundTripAndUnusedFieldsAreRefused) {
  std::mt19937_64 rng(std::random_device{}());
  const isa::Op all[] = {isa::Op::CFG,     isa::Op::LUT_LOAD, isa::Op::DMA_IN, isa::Op::DECODE_MAC,
                         isa::Op::OUTLIER, isa::Op::STORE,    isa::Op::SYNC,   isa::Op::END};
  for (int n = 0; n < 2000; ++n) {
    isa::Instruction in;
    in.op = all[rng() % 8];
    const isa::OpInfo& info = isa::op_info(in.op);
    for (unsigned i = 0; i < isa::kFields; ++i) in.f[i] = info.fields[i] == "-" ? 0 : uint32_t(rng());
    uint8_t bytes[isa::kInsnBytes];
    isa::encode(in, bytes);
    EXPECT_EQ(bytes[0], uint8_t(in.op));
    isa::Instruction back;
    std::string why;
    ASSERT_TRUE(isa::decode(bytes, &back, &why)) << why;
    EXPECT_EQ(back.op, in.op);
    EXPECT_EQ(back.f, in.f);
    // A nonzero unused field, a nonzero reserved byte, an unknown opcode.
    for (unsigned i = 0; i < isa::kFields; ++i) {
      if (info.fields[i] != "-") continue;
      uint8_t bad[isa::kInsnBytes];
      std::copy(bytes, bytes + isa::kInsnBytes, bad);
      bad[4 + 4 * i + rng() % 4] = uint8_t(1 + rng() % 255);
      EXPECT_FALSE(isa::decode(bad, &back, &why)) << info.name << " f" << i;
      EXPECT_NE(why.find("unused field f" + std::to_string(i)), std::string::npos) << why;
    }
    uint8_t reserved[isa::kInsnBytes];
    std::copy(bytes, bytes + isa::kInsnBytes, reserved);
    reserved[1 + rng() % 3] = 1;
    EXPECT_FALSE(isa::decode(reserved, &back, &why));
  }
  uint8_t unknown[isa::kInsnBytes] = {};
  for (unsigned code : {0x00u, 0x09u, 0x7fu, 0xffu}) {
    unknown[0] = uint8_t(code);
    isa::Instruction back;
    std::string why;
    EXPECT_FALSE(isa::decode(unknown, &back, &why)) << code;
    EXPECT_NE(why.find("unknown opcode"), std::string::npos) << why;
  }
}

TEST(Isa, SystemVerilogPackageCarriesTheTableAndTheMetaRule) {
  const std::string sv = isa::systemverilog_package();
  EXPECT_NE(sv.find("localparam int CFG_REGS = " + std::to_string(isa::kCfgRegCount) + ";"), std::string::npos);
  EXPECT_NE(sv.find("localparam int SYNC_DMA = 0;"), std::string::npos);
  EXPECT_NE(sv.find("localparam int SYNC_LUT = 1;"), std::string::npos);
#define LUTC_OP(name, code, summary, ...)                                                                             \
  for (unsigned i = 0; i < isa::kFields; ++i) {                                                                       \
    const std::string_view f = isa::op_info(isa::Op::name).fields[i];                                                 \
    if (f == "-") continue;                                                                                           \
    EXPECT_NE(sv.find("localparam int F_" #name "_" + upper(f) + " = " + std::to_string(i) + ";"), std::string::npos) \
        << #name << " " << f;                                                                                         \
  }                                                                                                                   \
  EXPECT_NE(sv.find("OP_" #name), std::string::npos);
#include "lutc/compiler/isa.def"
  // Each metadata function's case arms are the spec's values.
  for (uint32_t f = 0; f < 4; ++f) {
    const auto arm = [&](const char* fn, unsigned width, uint32_t v) {
      const size_t at = sv.find(std::string("function automatic logic [") + (width == 1 ? "0" : "2") + ":0] " + fn);
      EXPECT_NE(at, std::string::npos) << fn;
      const std::string want =
          "2'd" + std::to_string(f) + ": return " + std::to_string(width) + "'d" + std::to_string(v);
      const size_t hit = sv.find(want, at);
      EXPECT_LT(hit, sv.find("endfunction", at)) << fn << " " << want;
    };
    arm("meta_record_bytes", 3, meta_record_bytes(f));
    arm("meta_scale_offset", 3, meta_scale_offset(f));
    arm("meta_has_scale", 1, meta_has_scale(f));
    arm("meta_has_id", 1, meta_has_id(f));
  }
}

}  // namespace
}  // namespace lutc

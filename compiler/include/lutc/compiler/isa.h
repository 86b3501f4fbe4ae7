#pragma once
// Opcodes, layer registers and segments generated from isa.def, and the
// 32-byte instruction encoding.
#include <array>
#include <cstdint>
#include <string>

namespace lutc::isa {

enum class Op : uint8_t {
#define LUTC_OP(name, code, summary, f0, f1, f2, f3, f4, f5, f6) name = code,
#include "lutc/compiler/isa.def"
};

enum class CfgReg : uint32_t {
#define LUTC_CFG_REG(name, code, summary) name = code,
#include "lutc/compiler/isa.def"
};

enum class Segment : uint32_t {
#define LUTC_SEGMENT(name, code, summary) name = code,
#include "lutc/compiler/isa.def"
};

constexpr unsigned kFields = 7;
constexpr unsigned kInsnBytes = 32;

struct Instruction {
  Op op = Op::END;
  std::array<uint32_t, kFields> f{};
};

struct OpInfo {
  Op op;
  const char* name;
  const char* summary;
  std::array<const char*, kFields> fields;  // "-" = unused
};

// nullptr for a byte that is no opcode.
const OpInfo* op_info(uint8_t code);
const OpInfo& op_info(Op op);
const char* cfg_reg_name(uint32_t reg);  // nullptr when unknown
const char* segment_name(uint32_t seg);  // nullptr when unknown
constexpr uint32_t kCfgRegCount = 6;
constexpr uint32_t kSegmentCount = 4;

void encode(const Instruction& insn, uint8_t out[kInsnBytes]);
// Returns false when the opcode is unknown, the reserved bytes or an unused
// field are not zero.
bool decode(const uint8_t in[kInsnBytes], Instruction* out, std::string* why);

// The SystemVerilog package (lutc_isa_pkg) for the RTL, from the same table.
std::string systemverilog_package();

}  // namespace lutc::isa

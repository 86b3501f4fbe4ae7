#pragma once
// Opcodes, layer registers and segments generated from isa.def, and the
// 32-byte instruction encoding.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace lutc::isa {

enum class Op : uint8_t {
#define LUTC_OP(name, code, summary, ...) name = code,
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

enum class SyncUnit : uint32_t {
#define LUTC_SYNC_UNIT(name, bit, summary) name = bit,
#include "lutc/compiler/isa.def"
};
// SYNC's mask bit for a unit, and the mask of every unit.
constexpr uint32_t sync_bit(SyncUnit u) { return 1u << uint32_t(u); }
constexpr uint32_t kSyncMaskAll = 0
#define LUTC_SYNC_UNIT(name, bit, summary) | (1u << bit)
#include "lutc/compiler/isa.def"
    ;

constexpr unsigned kFields = 7;
constexpr unsigned kInsnBytes = 32;

// The field index of each operand, by name: in.f[fields::DECODE_MAC::k0].
namespace fields {
#define LUTC_OP(name, code, summary, ...)  \
  struct name {                            \
    enum Field : unsigned { __VA_ARGS__ }; \
  };
#include "lutc/compiler/isa.def"
}  // namespace fields

struct Instruction {
  Op op = Op::END;
  std::array<uint32_t, kFields> f{};
};

struct OpInfo {
  Op op;
  const char* name;
  const char* summary;
  std::array<std::string_view, kFields> fields;  // operand names; "-" = unused
};

// nullptr for a byte that is no opcode.
const OpInfo* op_info(uint8_t code);
const OpInfo& op_info(Op op);
const char* cfg_reg_name(uint32_t reg);  // nullptr when unknown
const char* segment_name(uint32_t seg);  // nullptr when unknown
constexpr uint32_t kCfgRegCount = 0
#define LUTC_CFG_REG(name, code, summary) +1
#include "lutc/compiler/isa.def"
    ;
constexpr uint32_t kSegmentCount = 0
#define LUTC_SEGMENT(name, code, summary) +1
#include "lutc/compiler/isa.def"
    ;

void encode(const Instruction& insn, uint8_t out[kInsnBytes]);
// Returns false when the opcode is unknown, the reserved bytes or an unused
// field are not zero.
bool decode(const uint8_t in[kInsnBytes], Instruction* out, std::string* why);

// The SystemVerilog package (lutc_isa_pkg) for the RTL, from the same table.
std::string systemverilog_package();

}  // namespace lutc::isa

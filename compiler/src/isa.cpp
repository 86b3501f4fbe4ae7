// Tables and encoding generated from isa.def; nothing here names an opcode.
#include "lutc/compiler/isa.h"

#include <cctype>
#include <cstdio>
#include <cstring>

namespace lutc::isa {
namespace {

#define LUTC_STR(x) #x
const OpInfo kOps[] = {
#define LUTC_OP(name, code, summary, f0, f1, f2, f3, f4, f5, f6) \
  {Op::name, #name, summary, {LUTC_STR(f0), LUTC_STR(f1), LUTC_STR(f2), LUTC_STR(f3), LUTC_STR(f4), LUTC_STR(f5), LUTC_STR(f6)}},
#include "lutc/compiler/isa.def"
};

struct Named {
  uint32_t code;
  const char* name;
  const char* summary;
};
const Named kRegs[] = {
#define LUTC_CFG_REG(name, code, summary) {code, #name, summary},
#include "lutc/compiler/isa.def"
};
const Named kSegments[] = {
#define LUTC_SEGMENT(name, code, summary) {code, #name, summary},
#include "lutc/compiler/isa.def"
};

static_assert(sizeof(kRegs) / sizeof(kRegs[0]) == kCfgRegCount, "kCfgRegCount");
static_assert(sizeof(kSegments) / sizeof(kSegments[0]) == kSegmentCount, "kSegmentCount");

void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
uint32_t get32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

}  // namespace

const OpInfo* op_info(uint8_t code) {
  for (const auto& o : kOps)
    if (uint8_t(o.op) == code) return &o;
  return nullptr;
}
const OpInfo& op_info(Op op) { return *op_info(uint8_t(op)); }

const char* cfg_reg_name(uint32_t reg) {
  for (const auto& r : kRegs)
    if (r.code == reg) return r.name;
  return nullptr;
}
const char* segment_name(uint32_t seg) {
  for (const auto& s : kSegments)
    if (s.code == seg) return s.name;
  return nullptr;
}

void encode(const Instruction& insn, uint8_t out[kInsnBytes]) {
  std::memset(out, 0, kInsnBytes);
  out[0] = uint8_t(insn.op);
  for (unsigned i = 0; i < kFields; ++i) put32(out + 4 + 4 * i, insn.f[i]);
}

bool decode(const uint8_t in[kInsnBytes], Instruction* out, std::string* why) {
  const OpInfo* info = op_info(in[0]);
  if (!info) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "unknown opcode 0x%02x", in[0]);
    *why = buf;
    return false;
  }
  if (in[1] || in[2] || in[3]) {
    *why = std::string(info->name) + ": reserved bytes are not zero";
    return false;
  }
  out->op = info->op;
  for (unsigned i = 0; i < kFields; ++i) {
    out->f[i] = get32(in + 4 + 4 * i);
    if (out->f[i] && !std::strcmp(info->fields[i], "-")) {
      *why = std::string(info->name) + ": unused field f" + std::to_string(i) + " is not zero";
      return false;
    }
  }
  return true;
}

std::string systemverilog_package() {
  std::string s;
  char buf[256];
  s += "// Generated from compiler/include/lutc/compiler/isa.def; do not edit.\n";
  s += "package lutc_isa_pkg;\n\n";
  std::snprintf(buf, sizeof buf, "  localparam int INSN_BYTES = %u;\n  localparam int INSN_FIELDS = %u;\n\n",
                kInsnBytes, kFields);
  s += buf;
  s += "  typedef enum logic [7:0] {\n";
  const size_t nops = sizeof(kOps) / sizeof(kOps[0]);
  for (size_t i = 0; i < nops; ++i) {
    std::snprintf(buf, sizeof buf, "    OP_%s = 8'h%02x%s  // %s\n", kOps[i].name, unsigned(kOps[i].op),
                  i + 1 < nops ? "," : "", kOps[i].summary);
    s += buf;
  }
  s += "  } opcode_e;\n\n";
  s += "  // Field index of each named operand: insn[32 + 32*i +: 32].\n";
  for (const auto& o : kOps)
    for (unsigned i = 0; i < kFields; ++i) {
      if (!std::strcmp(o.fields[i], "-")) continue;
      std::string f = o.fields[i];
      for (char& c : f) c = char(std::toupper(static_cast<unsigned char>(c)));
      std::snprintf(buf, sizeof buf, "  localparam int F_%s_%s = %u;\n", o.name, f.c_str(), i);
      s += buf;
    }
  s += "\n  typedef enum logic [31:0] {\n";
  for (size_t i = 0; i < kCfgRegCount; ++i) {
    std::snprintf(buf, sizeof buf, "    REG_%s = 32'd%u%s  // %s\n", kRegs[i].name, kRegs[i].code,
                  i + 1 < kCfgRegCount ? "," : "", kRegs[i].summary);
    s += buf;
  }
  s += "  } cfg_reg_e;\n\n  typedef enum logic [31:0] {\n";
  for (size_t i = 0; i < kSegmentCount; ++i) {
    std::snprintf(buf, sizeof buf, "    SEG_%s = 32'd%u%s  // %s\n", kSegments[i].name, kSegments[i].code,
                  i + 1 < kSegmentCount ? "," : "", kSegments[i].summary);
    s += buf;
  }
  s += "  } segment_e;\n\nendpackage\n";
  return s;
}

}  // namespace lutc::isa

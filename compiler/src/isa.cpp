// Tables and encoding generated from isa.def; nothing here names an opcode.
#include "lutc/compiler/isa.h"

#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <utility>

#include "lutc/spec/book_select.h"
#include "lutc/spec/meta_record.h"

namespace lutc::isa {
namespace {

struct Named {
  uint32_t code;
  const char* name;
  const char* summary;
};

// "a, b, c" (an operand list as isa.def writes it) -> {"a", "b", "c", "-", ...}.
constexpr std::array<std::string_view, kFields> split_operands(std::string_view list) {
  std::array<std::string_view, kFields> out{};
  for (auto& f : out) f = "-";
  for (unsigned n = 0; !list.empty(); ++n) {
    while (!list.empty() && list.front() == ' ') list.remove_prefix(1);
    const size_t comma = list.find(',');
    if (n < kFields) out[n] = list.substr(0, comma);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}
constexpr unsigned count_operands(std::string_view list) {
  unsigned n = list.empty() ? 0 : 1;
  for (char c : list) n += c == ',';
  return n;
}
#define LUTC_OP(name, code, summary, ...) \
  static_assert(count_operands(#__VA_ARGS__) <= kFields, #name ": more operands than instruction fields");
#include "lutc/compiler/isa.def"

const OpInfo kOps[] = {
#define LUTC_OP(name, code, summary, ...) {Op::name, #name, summary, split_operands(#__VA_ARGS__)},
#include "lutc/compiler/isa.def"
};

const Named kSyncUnits[] = {
#define LUTC_SYNC_UNIT(name, bit, summary) {bit, #name, summary},
#include "lutc/compiler/isa.def"
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
    if (out->f[i] && info->fields[i] == "-") {
      *why = std::string(info->name) + ": unused field f" + std::to_string(i) + " is not zero";
      return false;
    }
  }
  return true;
}

namespace {

// Appends printf-style text to s (every line below fits the buffer); the
// attribute keeps the compiler checking each format against its arguments.
__attribute__((format(printf, 2, 3))) void appendf(std::string& s, const char* fmt, ...) {
  char buf[256];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  s += buf;
}

// The opcode enum and the field index of every named operand.
void append_opcodes(std::string& s) {
  s += "  typedef enum logic [7:0] {\n";
  const size_t nops = sizeof(kOps) / sizeof(kOps[0]);
  for (size_t i = 0; i < nops; ++i)
    appendf(s, "    OP_%s = 8'h%02x%s  // %s\n", kOps[i].name, unsigned(kOps[i].op), i + 1 < nops ? "," : "",
            kOps[i].summary);
  s += "  } opcode_e;\n\n";
  s += "  // Field index of each named operand: insn[32 + 32*i +: 32].\n";
  for (const auto& o : kOps)
    for (unsigned i = 0; i < kFields; ++i) {
      if (o.fields[i] == "-") continue;
      std::string f(o.fields[i]);
      for (char& c : f) c = char(std::toupper(static_cast<unsigned char>(c)));
      appendf(s, "  localparam int F_%s_%s = %u;\n", o.name, f.c_str(), i);
    }
}

// CFG register count, BOOK_SELECT values and SYNC mask bits.
void append_config_constants(std::string& s) {
  appendf(s, "\n  localparam int CFG_REGS = %u;  // registers CFG writes\n", kCfgRegCount);
  s += "  // CFG BOOK_SELECT values (lutc/spec/book_select.h).\n";
  const std::pair<BookSelect, const char*> book_selects[] = {
      {BookSelect::kFixed, "FIXED"}, {BookSelect::kPerGroup, "PER_GROUP"}, {BookSelect::kById, "BY_ID"}};
  for (const auto& [v, name] : book_selects)
    appendf(s, "  localparam logic [1:0] BOOK_%s = 2'd%u;\n", name, unsigned(v));
  s += "  // SYNC mask bits.\n";
  for (const auto& u : kSyncUnits) appendf(s, "  localparam int SYNC_%s = %u;  // %s\n", u.name, u.code, u.summary);
}

// Metadata records, from the engine rule (lutc/spec/meta_record.h): one
// function per property, a case over the four formats.
void append_meta_functions(std::string& s) {
  s += "\n  // Metadata record of CFG META (lutc/spec/meta_record.h): size, scale offset, fields held.\n";
  const char* const fns[] = {"meta_record_bytes", "meta_scale_offset", "meta_has_scale", "meta_has_id"};
  for (int fn = 0; fn < 4; ++fn) {
    const bool flag = fn >= 2;
    appendf(s, "  function automatic logic [%u:0] %s(input logic [1:0] format);\n    case (format)\n", flag ? 0u : 2u,
            fns[fn]);
    for (uint32_t f = 0; f < 4; ++f) {
      const uint32_t v = fn == 0   ? meta_record_bytes(f)
                         : fn == 1 ? meta_scale_offset(f)
                         : fn == 2 ? uint32_t(meta_has_scale(f))
                                   : uint32_t(meta_has_id(f));
      appendf(s, "      2'd%u: return %u'd%u;\n", f, flag ? 1u : 3u, v);
    }
    s += "      default: return '0;\n    endcase\n  endfunction\n";
  }
}

// op_legal, and the CFG register and segment enums.
void append_legality_and_enums(std::string& s) {
  const size_t nops = sizeof(kOps) / sizeof(kOps[0]);
  s += "\n  // An opcode of isa.def (a program holds no other: the verifier refuses it).\n";
  s += "  function automatic logic op_legal(input logic [7:0] op);\n    case (op)\n      ";
  for (size_t i = 0; i < nops; ++i) s += std::string("OP_") + kOps[i].name + (i + 1 < nops ? ", " : ": return 1'b1;\n");
  s += "      default: return 1'b0;\n    endcase\n  endfunction\n";
  s += "\n  typedef enum logic [31:0] {\n";
  for (size_t i = 0; i < kCfgRegCount; ++i)
    appendf(s, "    REG_%s = 32'd%u%s  // %s\n", kRegs[i].name, kRegs[i].code, i + 1 < kCfgRegCount ? "," : "",
            kRegs[i].summary);
  s += "  } cfg_reg_e;\n\n  typedef enum logic [31:0] {\n";
  for (size_t i = 0; i < kSegmentCount; ++i)
    appendf(s, "    SEG_%s = 32'd%u%s  // %s\n", kSegments[i].name, kSegments[i].code, i + 1 < kSegmentCount ? "," : "",
            kSegments[i].summary);
  s += "  } segment_e;\n\nendpackage\n";
}

}  // namespace

std::string systemverilog_package() {
  std::string s;
  s += "// Generated from compiler/include/lutc/compiler/isa.def; do not edit.\n";
  s += "package lutc_isa_pkg;\n\n";
  appendf(s, "  localparam int INSN_BYTES = %u;\n  localparam int INSN_FIELDS = %u;\n\n", kInsnBytes, kFields);
  append_opcodes(s);
  append_config_constants(s);
  append_meta_functions(s);
  append_legality_and_enums(s);
  return s;
}

}  // namespace lutc::isa

#include "lutc/compiler/listing.h"

#include <cstdio>
#include <cstring>

namespace lutc {

std::string instruction_text(const isa::Instruction& in) {
  const isa::OpInfo& info = isa::op_info(in.op);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%-10s", info.name);
  std::string s = buf;
  if (in.op == isa::Op::CFG) {
    const uint32_t r = in.f[isa::fields::CFG::reg];
    const char* reg = isa::cfg_reg_name(r);
    s += " " + (reg ? std::string(reg) : "reg" + std::to_string(r)) + " = " +
         std::to_string(int32_t(in.f[isa::fields::CFG::value]));
  } else {
    for (unsigned i = 0; i < isa::kFields; ++i) {
      if (info.fields[i] == "-") continue;
      std::string v = std::to_string(in.f[i]);
      if (in.op == isa::Op::DMA_IN && i == isa::fields::DMA_IN::seg && isa::segment_name(in.f[i]))
        v = isa::segment_name(in.f[i]);
      s += " " + std::string(info.fields[i]) + "=" + v;
    }
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string program_listing(const Program& p) {
  std::string s;
  char buf[256];
  const ProgramMeta& m = p.meta;
  std::snprintf(buf, sizeof buf, "; lutp version 1, layer '%s', %s, %u x %u, %u-bit codes, group %u\n", m.layer.c_str(),
                scheme_name(m.scheme), m.rows, m.cols, m.bits, m.group);
  s += buf;
  std::snprintf(buf, sizeof buf,
                "; arch 0x%016llx: %u lanes, LUT %u x %u words, HIF mant %u shift %u, act %u bits, acc %u bits\n",
                (unsigned long long)p.arch_hash, p.arch.lanes, p.arch.lut_banks, p.arch.lut_bank_words,
                p.arch.hif_mant_bits, p.arch.hif_shift_bits, p.arch.act_bits, p.arch.acc_bits);
  s += buf;
  std::snprintf(buf, sizeof buf, "; tiles of %u x %u, weight_exp %d, accumulator needs %u bits\n", m.tile_rows,
                m.tile_cols, m.weight_exp, m.acc_bits_needed);
  s += buf;
  std::snprintf(buf, sizeof buf, "; segments: INDICES %zu, META %zu, OUTLIERS %zu bytes\n", p.segments[1].size(),
                p.segments[2].size(), p.segments[3].size());
  s += buf;
  s += "lut image (" + std::to_string(p.lut_image.size()) +
       " records; word = sign mant >> shift, value = mant * 2^(base - shift))\n";
  const HifFormat hif = p.hif();
  for (size_t i = 0; i < p.lut_image.size(); ++i) {
    const LutRecord& r = p.lut_image[i];
    std::snprintf(buf, sizeof buf, "  %4zu  bank %u addr %u base %d:", i, r.bank, r.addr, r.base);
    s += buf;
    for (uint32_t w : r.words) {
      const HifFields h = hif_unpack(hif, w);
      std::snprintf(buf, sizeof buf, " %c%u>>%u", h.negative ? '-' : '+', h.mant, h.shift);
      s += buf;
    }
    s += "\n";
  }
  s += "code (" + std::to_string(p.code.size()) + " instructions)\n";
  for (size_t i = 0; i < p.code.size(); ++i) {
    std::snprintf(buf, sizeof buf, "  %4zu  ", i);
    s += buf + instruction_text(p.code[i]) + "\n";
  }
  return s;
}

}  // namespace lutc

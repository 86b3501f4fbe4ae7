#include "rtl_accounting.h"

#include "lutc/model/bitpack.h"

namespace lutc::rtl {
namespace {
// Groups a column chunk [k0, k0 + cols) touches (docs/isa.md, DECODE_MAC).
uint64_t groups_in_chunk(uint32_t k0, uint32_t cols, uint32_t group) {
  return (uint64_t(k0) + cols - 1) / group - k0 / group + 1;
}
}  // namespace

void Accounting::sample(uint32_t lut, uint32_t macs, bool conflict, bool dec, bool outl, bool sync, bool y,
                        bool dma) {
  lut_reads += lut;
  multiplies += macs;
  conflicts += conflict;
  decode += dec;
  outlier += outl;
  sync_wait += sync;
  outputs += y;
  acc_busy += (macs > 0) || outl;
  lut_busy += lut > 0;
  weight_sram_busy += dec || outl || dma;
  act_sram_busy += dec || outl;
}

void Accounting::instruction(const Program& p, const isa::Instruction& in) {
  ++instructions;
  const uint32_t act_bytes = p.arch.act_bits / 8;
  switch (in.op) {
    case isa::Op::CFG:
      if (in.f[0] < isa::kCfgRegCount) regs[in.f[0]] = in.f[1];
      break;
    case isa::Op::DECODE_MAC: {
      const uint32_t rows = in.f[0], cols = in.f[1], k0 = in.f[2];
      const uint32_t bits = regs[uint32_t(isa::CfgReg::BITS)], group = regs[uint32_t(isa::CfgReg::GROUP)];
      const uint32_t mb = meta_record_bytes(regs[uint32_t(isa::CfgReg::META)]);
      weight_sram_read_bytes += packed_bytes(uint64_t(rows) * cols, bits);
      if (group) weight_sram_read_bytes += uint64_t(rows) * groups_in_chunk(k0, cols, group) * mb;
      act_sram_read_bytes += uint64_t(cols) * act_bytes;
      break;
    }
    case isa::Op::OUTLIER:
      weight_sram_read_bytes += uint64_t(in.f[1]) * kOutlierRecordBytes;
      act_sram_read_bytes += uint64_t(in.f[1]) * act_bytes;
      break;
    default: break;
  }
}

EngineStats Accounting::stats(const Program& p, uint32_t batch) const {
  EngineStats s;
  s.engine = "rtl";
  s.layer = p.meta.layer;
  s.arch = p.arch.name;
  s.arch_hash = p.arch_hash;
  s.rows = p.meta.rows;
  s.cols = p.meta.cols;
  s.batch = batch;
  s.cycles = cycles;
  ActionCounts& a = s.actions;
  a.dram_bytes = dram_bytes;
  a.weight_sram_write_bytes = weight_sram_write_bytes;
  a.weight_sram_read_bytes = weight_sram_read_bytes;
  a.act_sram_write_bytes = act_sram_write_bytes;
  a.act_sram_read_bytes = act_sram_read_bytes;
  a.lut_writes = lut_writes;
  a.lut_reads = lut_reads;
  a.multiplies = multiplies;
  a.acc_adds = multiplies + outlier;
  a.outlier_ops = outlier;
  a.output_words = outputs;
  a.instructions = instructions;
  a.bank_conflict_cycles = conflicts;
  s.units["controller"] = {cycles - sync_wait, sync_wait};
  s.units["dma"] = {dma_busy, 0};
  s.units["weight_sram"] = {weight_sram_busy, 0};
  s.units["act_sram"] = {act_sram_busy, 0};
  s.units["lut"] = {lut_busy, conflicts};
  s.units["lanes"] = {decode, conflicts};
  s.units["accumulator"] = {acc_busy, 0};
  s.units["outlier"] = {outlier, 0};
  s.units["writeback"] = {outputs, 0};
  s.finish(p.arch);
  return s;
}

}  // namespace lutc::rtl

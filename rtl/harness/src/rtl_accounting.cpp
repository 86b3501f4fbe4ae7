#include "rtl_accounting.h"

#include "lutc/model/bitpack.h"
#include "lutc/spec/chunk_groups.h"

namespace lutc::rtl {

namespace F = isa::fields;

void Accounting::sample(uint32_t lut, uint32_t macs, bool conflict, bool dec, bool outl, bool sync, bool y, bool dma) {
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
      if (in.f[F::CFG::reg] < isa::kCfgRegCount) regs[in.f[F::CFG::reg]] = in.f[F::CFG::value];
      break;
    case isa::Op::DECODE_MAC: {
      using D = F::DECODE_MAC;
      const uint32_t rows = in.f[D::rows], cols = in.f[D::cols], k0 = in.f[D::k0];
      const uint32_t bits = regs[uint32_t(isa::CfgReg::BITS)], group = regs[uint32_t(isa::CfgReg::GROUP)];
      const uint32_t mb = meta_record_bytes(regs[uint32_t(isa::CfgReg::META)]);
      weight_sram_read_bytes += packed_bytes(uint64_t(rows) * cols, bits);
      if (group) weight_sram_read_bytes += uint64_t(rows) * groups_in_chunk(k0, cols, group) * mb;
      act_sram_read_bytes += uint64_t(cols) * act_bytes;
      break;
    }
    case isa::Op::OUTLIER:
      weight_sram_read_bytes += uint64_t(in.f[F::OUTLIER::count]) * kOutlierRecordBytes;
      act_sram_read_bytes += uint64_t(in.f[F::OUTLIER::count]) * act_bytes;
      break;
    // The DMA model counts DMA_IN and LUT_LOAD; the rest move no SRAM bytes.
    case isa::Op::LUT_LOAD:
    case isa::Op::DMA_IN:
    case isa::Op::STORE:
    case isa::Op::SYNC:
    case isa::Op::END: break;
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

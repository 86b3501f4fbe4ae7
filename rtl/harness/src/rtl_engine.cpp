// Drives the Verilated engine cycle by cycle: the clock, the instruction
// stream, the DMA (dma_model), and the activity counters that become the
// stats schema. The engine's y leaves through the STORE writeback port.
#include "lutc/rtl/rtl_engine.h"

#include <verilated.h>
#include <verilated_fst_c.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "Vlutc_engine.h"
#include "dma_model.h"
#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "rtl_accounting.h"

namespace lutc::rtl {

ArchConfig verilated_arch() {
  ArchConfig v;
  v.name = "verilated";
  v.lanes = LUTC_RTL_LANES;
  v.lut_banks = LUTC_RTL_BANKS;
  v.lut_ports = LUTC_RTL_PORTS;
  v.lut_bank_words = LUTC_RTL_BANK_WORDS;
  v.hif_mant_bits = LUTC_RTL_MANT_MAX;
  v.hif_shift_bits = LUTC_RTL_SHIFT_MAX;
  v.acc_bits = LUTC_RTL_ACC_BITS;
  static_assert(LUTC_RTL_WSRAM_BYTES % 1024 == 0 && LUTC_RTL_ASRAM_BYTES % 1024 == 0, "SRAMs are whole KiB");
  v.weight_sram_kib = LUTC_RTL_WSRAM_BYTES / 1024;
  v.act_sram_kib = LUTC_RTL_ASRAM_BYTES / 1024;
  return v;
}

std::string unsupported_arch(const ArchConfig& a) {
  // Every structural key (its RtlFit in arch_keys.def) against the value
  // the engine was verilated with.
  const std::vector<ArchKeyInfo>& keys = arch_keys();
  const std::vector<double> have = arch_values(a), hw = arch_values(verilated_arch());
  std::string why;
  for (size_t i = 0; i < keys.size(); ++i) {
    const RtlFit fit = keys[i].rtl;
    if (fit == RtlFit::kAny) continue;
    const bool ok = fit == RtlFit::kExactly ? have[i] == hw[i] : have[i] <= hw[i];
    if (!ok)
      why += (why.empty() ? "" : "; ") + keys[i].key + " = " + arch_value_text(keys[i], have[i]) +
             " but the verilated engine needs " + (fit == RtlFit::kExactly ? "== " : "<= ") +
             arch_value_text(keys[i], hw[i]);
  }
  return why;
}

namespace {

// One program run on one activation vector.
class Run {
 public:
  Run(const Program& p, const float* x, const RtlOptions& opt, bool wave)
      : p_(p), opt_(opt), ctx_(std::make_unique<VerilatedContext>()) {
    act_.resize(p.meta.cols);
    act_exp_ = quantize_activations(x, p.meta.cols, p.arch.act_bits, act_.data());
    dma_ = std::make_unique<DmaModel>(p, act_, LUTC_RTL_DMA_BYTES);
    top_ = std::make_unique<Vlutc_engine>(ctx_.get(), "engine");
    if (wave) {
      ctx_->traceEverOn(true);
      fst_ = std::make_unique<VerilatedFstC>();
      top_->trace(fst_.get(), 99);
      // Written beside the target and renamed once the run completes, so a
      // failed run leaves no half-written wave behind.
      wave_tmp_ = opt.wave_path + ".tmp";
      fst_->open(wave_tmp_.c_str());
    }
    insn_bytes_.resize(p.code.size() * isa::kInsnBytes);
    for (size_t i = 0; i < p.code.size(); ++i) isa::encode(p.code[i], insn_bytes_.data() + i * isa::kInsnBytes);
  }
  ~Run() {
    top_->final();
    if (fst_) {
      fst_->close();
      std::remove(wave_tmp_.c_str());  // only still there when the run failed
    }
  }

  void commit_wave() {
    if (!fst_) return;
    fst_->close();
    fst_.reset();
    if (std::rename(wave_tmp_.c_str(), opt_.wave_path.c_str()) != 0)
      throw Error(ExitCode::kIo, "cannot write wave '" + opt_.wave_path + "'");
  }

  void execute(float* y, Accounting& acct, std::vector<RowOrigin>* origin, IssueLog* issues) {
    Vlutc_engine& t = *top_;
    t.cfg_mant_bits = p_.arch.hif_mant_bits;
    t.cfg_shift_bits = p_.arch.hif_shift_bits;
    t.cfg_act16 = p_.arch.act_bits == 16;
    t.host_act_exp = uint32_t(act_exp_);
    t.clk = 0;
    t.rst_n = 0;
    t.eval();
    t.rst_n = 1;
    t.eval();
    size_t pc = 0;
    uint32_t decodes = 0;
    RowOrigin current;
    bool stored_since_decode = true;
    for (uint64_t cycle = 0;; ++cycle) {
      if (cycle >= opt_.max_cycles)
        fail_input("", p_.meta.layer, -1,
                   "rtl: no END after " + std::to_string(cycle) + " cycles (pc " + std::to_string(pc) + ")");
      drive(cycle, pc);
      t.clk = 0;
      t.eval();
      if (fst_) fst_->dump(2 * (acct.cycles + cycle));
      const bool accepted = t.insn_ready && t.insn_valid;
      if (t.req_valid) {
        const uint32_t f[4] = {t.req_f[0], t.req_f[1], t.req_f[2], t.req_f[3]};
        dma_->issue(t.req_op == uint8_t(isa::Op::LUT_LOAD), f, cycle);
      }
      if (t.y_valid) {
        const uint32_t row = t.y_row, bits = t.y_bits;
        if (row >= p_.meta.rows) fail_input("", p_.meta.layer, -1, "rtl: STORE to row " + std::to_string(row));
        std::memcpy(&y[row], &bits, 4);
        if (origin) (*origin)[row] = current;
      }
      acct.sample(t.act_lut_reads, t.act_macs, t.act_conflict, t.act_decode, t.act_outlier, t.act_sync_wait, t.y_valid,
                  dma_->dma_busy(cycle) || dma_->lut_busy(cycle));
      t.clk = 1;
      t.eval();
      if (fst_) fst_->dump(2 * (acct.cycles + cycle) + 1);
      if (accepted) {
        const isa::Instruction& in = p_.code[pc];
        if (issues) issues->records.push_back({0, uint32_t(pc), in.op, cycle});
        acct.instruction(p_, in);
        if (in.op == isa::Op::DECODE_MAC) {
          // A row tile's first DECODE_MAC after a STORE starts a new origin.
          if (stored_since_decode) current.first_decode_insn = uint32_t(pc), current.first_tile = decodes;
          current.last_decode_insn = uint32_t(pc), current.last_tile = decodes;
          stored_since_decode = false;
          ++decodes;
        }
        if (in.op == isa::Op::STORE) current.store_insn = uint32_t(pc), stored_since_decode = true;
        ++pc;
        if (in.op == isa::Op::END) {
          acct.cycles += cycle + 1;
          break;
        }
      }
    }
    acct.dram_bytes += dma_->dram_bytes;
    acct.weight_sram_write_bytes += dma_->weight_sram_write_bytes;
    acct.act_sram_write_bytes += dma_->act_sram_write_bytes;
    acct.lut_writes += dma_->lut_writes;
    acct.dma_busy += dma_->busy_cycles;
  }

 private:
  void drive(uint64_t cycle, size_t pc) {
    Vlutc_engine& t = *top_;
    t.insn_valid = pc < p_.code.size();
    if (t.insn_valid)
      for (int w = 0; w < 8; ++w) std::memcpy(&t.insn[w], insn_bytes_.data() + pc * isa::kInsnBytes + 4 * w, 4);
    t.dma_busy = dma_->dma_busy(cycle);
    t.lut_busy = dma_->lut_busy(cycle);
    const DmaBeat b = dma_->beat(cycle);
    t.wr_en = b.sram;
    t.wr_act = b.act;
    t.wr_addr = b.addr;
    uint64_t be = 0;
    for (int w = 0; w < LUTC_RTL_DMA_BYTES / 4; ++w) t.wr_data[w] = 0;
    for (size_t i = 0; i < b.bytes.size(); ++i) {
      be |= uint64_t(1) << i;
      t.wr_data[i / 4] |= uint32_t(b.bytes[i]) << (8 * (i % 4));
    }
    t.wr_be = be;
    uint32_t we = 0, base_we = 0;
    for (size_t k = 0; k < b.lut.size(); ++k) {
      const DmaBeat::LutWrite& w = b.lut[k];
      we |= uint32_t(w.we) << k;
      base_we |= uint32_t(w.base) << k;
      t.lut_addr[k] = w.addr;
      t.lut_word[k] = w.word;
      t.lut_base[k] = uint16_t(int16_t(w.base_value));
    }
    t.lut_we = we;
    t.lut_base_we = base_we;
  }

  const Program& p_;
  const RtlOptions& opt_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vlutc_engine> top_;
  std::unique_ptr<VerilatedFstC> fst_;
  std::unique_ptr<DmaModel> dma_;
  std::vector<int32_t> act_;
  int act_exp_ = 0;
  std::vector<uint8_t> insn_bytes_;
  std::string wave_tmp_;
};

}  // namespace

RtlResult run_rtl(const Program& p, const float* x, uint32_t batch, float* y, const RtlOptions& opt) {
  if (batch == 0) throw Error(ExitCode::kBadInput, "run_rtl: batch is zero");
  const std::string why = unsupported_arch(p.arch);
  if (!why.empty())
    fail_input("", p.meta.layer, -1,
               "the verilated RTL engine cannot run a program for arch '" + p.arch.name + "': " + why +
                   " (docs/rtl.md \"Verilated configuration\")");
  RtlResult r;
  r.origin.resize(p.meta.rows);
  if (opt.keep_issue_log) r.issues.layers.push_back(p.meta.layer);
  Accounting acct;
  for (uint32_t m = 0; m < batch; ++m) {
    Run run(p, x + size_t(m) * p.meta.cols, opt, m == 0 && !opt.wave_path.empty());
    run.execute(y + size_t(m) * p.meta.rows, acct, m == 0 ? &r.origin : nullptr,
                m == 0 && opt.keep_issue_log ? &r.issues : nullptr);
    run.commit_wave();
  }
  r.stats = acct.stats(p, batch);
  return r;
}

}  // namespace lutc::rtl

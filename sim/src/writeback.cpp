#include "lutc/sim/writeback.h"

#include <string>

#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "lutc/sim/cycle_model.h"
#include "lutc/sim/sim_time.h"
#include "lutc/sim/unit_guard.h"

namespace lutc::sim {

Writeback::Writeback(sc_core::sc_module_name name, RunContext& ctx, ActivityLog& log)
    : sc_module(name), commands("commands"), accumulators("accumulators"), ctx_(ctx), log_(log) {
  SC_HAS_PROCESS(Writeback);
  SC_THREAD(thread);
}

void Writeback::thread() {
  guarded([&] {
    for (;;) {
      ComputeCommand c = commands.read();
      for (const Dependency& d : c.after) log_.stall(Unit::kWriteback, d.counter->wait_until(d.seq));
      const uint32_t rows = c.insn.f[isa::fields::STORE::rows];
      if (ctx_.functional) store(c);
      log_.actions.output_words += uint64_t(rows) * ctx_.batch;
      const double start = now_cycles();
      sc_core::wait(cycles(double(rows) * ctx_.batch));
      log_.busy(Unit::kWriteback, start, now_cycles(), "STORE",
                log_.keeps_labels()
                    ? "STORE rows " + std::to_string(c.insn.f[isa::fields::STORE::row0]) + "+" + std::to_string(rows)
                    : "");
      log_.busy(Unit::kAccumulator, start, start + double(rows) * ctx_.batch, "drain");
      retired.retire(c.seq);
    }
  });
}

void Writeback::store(const ComputeCommand& c) {
  const uint32_t row0 = c.insn.f[isa::fields::STORE::row0], rows = c.insn.f[isa::fields::STORE::rows];
  const Program& p = *ctx_.program;
  const int ew = c.regs[uint32_t(isa::CfgReg::WEIGHT_EXP)];
  // A 128-bit accumulator is the modular arithmetic itself: nothing to check.
  const bool bounded = p.arch.acc_bits < 128;
  const __int128 limit = bounded ? __int128(1) << (p.arch.acc_bits - 1) : 0;
  std::vector<float>& y = *ctx_.y;
  for (uint32_t r = 0; r < rows; ++r) {
    u128* acc = accumulators->lane(r);
    for (uint32_t m = 0; m < ctx_.batch; ++m) {
      const __int128 v = __int128(acc[m]);
      if (bounded && (v >= limit || v < -limit))
        fail_input("", p.meta.layer, -1, "sim: accumulator overflow at output row " + std::to_string(row0 + r));
      y[size_t(m) * p.meta.rows + row0 + r] = scaled_int128_to_float(v, ew + ctx_.act_exp[m]);
      acc[m] = 0;
    }
    ctx_.row_stored[row0 + r] = 1;
  }
}

}  // namespace lutc::sim

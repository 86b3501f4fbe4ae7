#include "lutc/sim/action_math.h"

namespace lutc::sim {
namespace {

template <class F>
void each_field(ActionCounts& out, const ActionCounts& a, const ActionCounts& b, F f) {
  out.dram_bytes = f(a.dram_bytes, b.dram_bytes);
  out.weight_sram_write_bytes = f(a.weight_sram_write_bytes, b.weight_sram_write_bytes);
  out.weight_sram_read_bytes = f(a.weight_sram_read_bytes, b.weight_sram_read_bytes);
  out.act_sram_write_bytes = f(a.act_sram_write_bytes, b.act_sram_write_bytes);
  out.act_sram_read_bytes = f(a.act_sram_read_bytes, b.act_sram_read_bytes);
  out.lut_writes = f(a.lut_writes, b.lut_writes);
  out.lut_reads = f(a.lut_reads, b.lut_reads);
  out.multiplies = f(a.multiplies, b.multiplies);
  out.acc_adds = f(a.acc_adds, b.acc_adds);
  out.outlier_ops = f(a.outlier_ops, b.outlier_ops);
  out.output_words = f(a.output_words, b.output_words);
  out.instructions = f(a.instructions, b.instructions);
  out.bank_conflict_cycles = f(a.bank_conflict_cycles, b.bank_conflict_cycles);
}

}  // namespace

ActionCounts operator-(const ActionCounts& a, const ActionCounts& b) {
  ActionCounts out;
  each_field(out, a, b, [](uint64_t x, uint64_t y) { return x - y; });
  return out;
}

ActionCounts& operator+=(ActionCounts& a, const ActionCounts& b) {
  each_field(a, a, b, [](uint64_t x, uint64_t y) { return x + y; });
  return a;
}

}  // namespace lutc::sim

#include "lutc/sim/controller.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "lutc/model/bitpack.h"
#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "lutc/sim/cycle_model.h"
#include "lutc/sim/sim_time.h"
#include "lutc/sim/unit_guard.h"
#include "lutc/spec/book_select.h"
#include "lutc/spec/chunk_groups.h"

namespace lutc::sim {

Controller::Controller(sc_core::sc_module_name name, RunContext& ctx, ActivityLog& log, std::vector<SimLayer>& layers,
                       uint32_t batch, Progress progress, std::vector<std::vector<float>>& outputs,
                       std::vector<LayerWindow>& windows)
    : sc_module(name),
      dma("dma"),
      lanes("lanes"),
      outliers("outliers"),
      writeback("writeback"),
      ctx_(ctx),
      log_(log),
      layers_(layers),
      batch_(batch),
      progress_(progress),
      outputs_(outputs),
      windows_(windows) {
  SC_HAS_PROCESS(Controller);
  SC_THREAD(thread);
}

void Controller::thread() {
  guarded([&] {
    for (uint32_t i = 0; i < layers_.size(); ++i) {
      begin_layer(i);
      LayerWindow& w = windows_[i];
      w.start = now_cycles();
      if (issues_) issues_->layers.push_back(w.layer);
      w.actions_before = log_.actions;
      w.stall_before.assign(log_.stall_cycles, log_.stall_cycles + kUnitCount);
      double issue_open = w.start;  // consecutive issue cycles become one slice
      const uint32_t count = uint32_t(imem_.size() / isa::kInsnBytes);
      for (uint32_t pc = 0; pc < count; ++pc) {
        isa::Instruction in;
        std::string why;
        if (!isa::decode(imem_.data() + size_t(pc) * isa::kInsnBytes, &in, &why))
          fail_input("", ctx_.program->meta.layer, -1, "sim: instruction " + std::to_string(pc) + ": " + why);
        const double before = now_cycles();
        if (before > issue_open) issue_open = before;
        sc_core::wait(cycles(kIssueCycles));
        ++log_.actions.instructions;
        const double issued = now_cycles();
        accepted_at_ = issued;
        execute(in);
        if (issues_) {
          // The RTL numbers cycles from the first fetch, and accepts in the
          // cycle before the one this model's issue (or wait) ends at.
          const double c = accepted_at_ - kIssueCycles - w.start;
          issues_->records.push_back({i, pc, in.op, uint64_t(std::max(0.0, std::ceil(c - 1e-6)))});
        }
        if (now_cycles() > issued || in.op == isa::Op::END) {  // it waited: close the issue slice
          log_.busy(Unit::kController, issue_open, issued, "issue");
          issue_open = now_cycles();
        }
        if (in.op == isa::Op::END) break;
      }
      if (ctx_.functional) {
        for (uint32_t r = 0; r < ctx_.program->meta.rows; ++r)
          if (!ctx_.row_stored[r])
            fail_input("", ctx_.program->meta.layer, -1,
                       "sim: program ended without storing output row " + std::to_string(r));
      }
      w.end = now_cycles();
      w.actions_after = log_.actions;
      w.stall_after.assign(log_.stall_cycles, log_.stall_cycles + kUnitCount);
      ctx_.program.reset();  // a whole model need not stay in memory
    }
  });
}

void Controller::begin_layer(uint32_t index) {
  SimLayer& layer = layers_[index];
  std::shared_ptr<const Program> p = layer.load();
  if (p->arch_hash != ctx_.arch_hash)
    fail_input("", p->meta.layer, -1,
               "sim: the program was compiled for another arch (hash mismatch with the first layer's)");
  ctx_.program = p;
  ctx_.layer_index = index;
  if (on_program_) on_program_(*p);
  windows_[index].layer = layer.name.empty() ? p->meta.layer : layer.name;
  windows_[index].rows = p->meta.rows;
  windows_[index].cols = p->meta.cols;
  ctx_.batch = batch_;
  log_.set_layer(index);
  const uint32_t rows = p->meta.rows, cols = p->meta.cols;
  ctx_.functional = !layer.x.empty();
  ctx_.act_images.clear();
  ctx_.act_exp.assign(batch_, 0);
  if (ctx_.functional) {
    if (layer.x.size() != size_t(batch_) * cols)
      fail_input("", p->meta.layer, -1,
                 "sim: activations hold " + std::to_string(layer.x.size()) + " values, want batch " +
                     std::to_string(batch_) + " x cols " + std::to_string(cols));
    // The host: one integer vector and exponent per activation vector, laid
    // out as the ACT segment (act_bits little-endian) the DMA reads.
    const uint32_t ab = p->arch.act_bits / 8;
    std::vector<int32_t> a(cols);
    ctx_.act_images.assign(batch_, std::vector<uint8_t>(size_t(cols) * ab));
    for (uint32_t m = 0; m < batch_; ++m) {
      ctx_.act_exp[m] = quantize_activations(layer.x.data() + size_t(m) * cols, cols, p->arch.act_bits, a.data());
      for (uint32_t k = 0; k < cols; ++k)
        for (uint32_t b = 0; b < ab; ++b) ctx_.act_images[m][size_t(k) * ab + b] = uint8_t(uint32_t(a[k]) >> (8 * b));
    }
    layer.x = {};
    outputs_[index].assign(size_t(batch_) * rows, std::numeric_limits<float>::quiet_NaN());
    ctx_.y = &outputs_[index];
    ctx_.row_stored.assign(rows, 0);
  }
  imem_.resize(p->code.size() * isa::kInsnBytes);
  for (size_t i = 0; i < p->code.size(); ++i) isa::encode(p->code[i], imem_.data() + i * isa::kInsnBytes);
  regs_ = {};
  reads_.clear();
}

std::vector<Dependency> Controller::readers_of(Space space, uint64_t lo, uint64_t hi) {
  reads_.erase(std::remove_if(reads_.begin(), reads_.end(), [](const Read& r) { return r.unit->value() >= r.seq; }),
               reads_.end());
  std::vector<Dependency> deps;
  for (const Read& r : reads_) {
    if (r.space != space || r.hi <= lo || hi <= r.lo) continue;
    auto same = std::find_if(deps.begin(), deps.end(), [&](const Dependency& d) { return d.counter == r.unit; });
    if (same == deps.end())
      deps.push_back({r.unit, r.seq});
    else
      same->seq = std::max(same->seq, r.seq);
  }
  return deps;
}

void Controller::note_read(Space space, uint64_t lo, uint64_t hi, ProgressCounter* unit, uint64_t seq) {
  if (hi > lo) reads_.push_back({space, lo, hi, unit, seq});
}

namespace F = isa::fields;

void Controller::execute(const isa::Instruction& in) {
  const Program& p = *ctx_.program;
  const auto& f = in.f;
  switch (in.op) {
    case isa::Op::CFG: regs_[f[F::CFG::reg]] = int32_t(f[F::CFG::value]); break;
    case isa::Op::LUT_LOAD: {
      accept_when_idle({lanes_idle(), outliers_idle()});
      uint64_t lo = std::numeric_limits<uint64_t>::max(), hi = 0;
      const uint32_t first = f[F::LUT_LOAD::first], count = f[F::LUT_LOAD::count];
      for (uint32_t i = first; i < first + count; ++i) {
        const LutRecord& r = p.lut_image[i];
        const uint64_t slot = uint64_t(r.addr / p.entries()) * p.arch.lut_banks + r.bank;
        lo = std::min(lo, slot);
        hi = std::max(hi, slot + 1);
      }
      DmaCommand c{DmaCommand::Kind::kLutLoad, ++issued_luts_, in, readers_of(Space::kLutSlots, lo, hi)};
      dma.write(c);
      break;
    }
    case isa::Op::DMA_IN: {
      accept_when_idle({lanes_idle(), outliers_idle()});
      using D = F::DMA_IN;
      const Space space = f[D::seg] == uint32_t(isa::Segment::ACT) ? Space::kActSram : Space::kWeightSram;
      DmaCommand c{DmaCommand::Kind::kSegment, ++issued_segments_, in,
                   readers_of(space, f[D::dst], uint64_t(f[D::dst]) + f[D::bytes])};
      dma.write(c);
      break;
    }
    case isa::Op::DECODE_MAC: {
      accept_when_idle({lanes_idle()});
      ComputeCommand c{++issued_lanes_, in, regs_, {}};
      if (issued_stores_) c.after.push_back({progress_.writeback, issued_stores_});
      using D = F::DECODE_MAC;
      const uint32_t rows = f[D::rows], cols = f[D::cols], k0 = f[D::k0];
      const uint32_t bits = uint32_t(regs_[uint32_t(isa::CfgReg::BITS)]);
      const uint32_t group = std::max<uint32_t>(1, uint32_t(regs_[uint32_t(isa::CfgReg::GROUP)]));
      const uint64_t groups = groups_in_chunk(k0, cols, group);
      const uint32_t mb = meta_record_bytes(uint32_t(regs_[uint32_t(isa::CfgReg::META)]));
      const uint32_t idx = f[D::idx], meta = f[D::meta], slot0 = f[D::slot0], act = f[D::act];
      note_read(Space::kWeightSram, idx, idx + packed_bytes(uint64_t(rows) * cols, bits), progress_.lanes, c.seq);
      note_read(Space::kWeightSram, meta, meta + uint64_t(rows) * groups * mb, progress_.lanes, c.seq);
      note_read(Space::kActSram, act, act + uint64_t(cols) * (p.arch.act_bits / 8), progress_.lanes, c.seq);
      const int select = regs_[uint32_t(isa::CfgReg::BOOK_SELECT)];
      const uint64_t books = select == int(BookSelect::kFixed)      ? 1
                             : select == int(BookSelect::kPerGroup) ? uint64_t(rows) * groups
                                                                    : p.lut_slots() - slot0;
      note_read(Space::kLutSlots, slot0, slot0 + books, progress_.lanes, c.seq);
      last_act_ = {act, act + uint64_t(cols) * (p.arch.act_bits / 8)};
      lanes.write(c);
      break;
    }
    case isa::Op::OUTLIER: {
      accept_when_idle({outliers_idle()});
      ComputeCommand c{++issued_outliers_, in, regs_, {}};
      if (issued_stores_) c.after.push_back({progress_.writeback, issued_stores_});
      const uint32_t addr = f[F::OUTLIER::addr];
      note_read(Space::kWeightSram, addr, addr + uint64_t(f[F::OUTLIER::count]) * kOutlierRecordBytes,
                progress_.outliers, c.seq);
      // Outlier columns lie in the chunk the tile's DECODE_MAC read.
      note_read(Space::kActSram, last_act_.first, last_act_.second, progress_.outliers, c.seq);
      outliers.write(c);
      break;
    }
    case isa::Op::STORE: {
      accept_when_idle({lanes_idle(), outliers_idle()});
      ComputeCommand c{++issued_stores_, in, regs_, {}};
      c.after.push_back(lanes_idle());
      c.after.push_back(outliers_idle());
      writeback.write(c);
      // The controller drives one row per cycle to writeback before it fetches again.
      const double start = now_cycles(), rows = double(f[F::STORE::rows]) * ctx_.batch;
      sc_core::wait(cycles(rows));
      log_.busy(Unit::kController, start, now_cycles(), "STORE");
      break;
    }
    case isa::Op::SYNC: sync(f[F::SYNC::mask]); break;
    case isa::Op::END: drain(); break;
  }
}

void Controller::accept_when_idle(std::initializer_list<Dependency> units) {
  accepted_at_ = wait_idle(units.begin(), units.end());
}

double Controller::wait_idle(const Dependency* first, const Dependency* last) {
  const double fetched = now_cycles();
  double idle = 0;
  for (const Dependency* d = first; d != last; ++d) {
    d->counter->wait_until(d->seq);
    if (d->seq) idle = std::max(idle, d->counter->retired_at());
  }
  // A unit that retires at cycle t is seen idle in cycle t; the instruction
  // is accepted in that cycle and the next one is fetched after it.
  const double accepted = std::max(now_cycles(), idle + kIssueCycles);
  if (accepted > now_cycles()) sc_core::wait(cycles(accepted - now_cycles()));
  log_.stall(Unit::kController, now_cycles() - fetched);
  return now_cycles();
}

void Controller::sync(uint32_t mask) {
  Dependency units[2];
  size_t n = 0;
  if (mask & isa::sync_bit(isa::SyncUnit::DMA)) units[n++] = {progress_.dma_segments, issued_segments_};
  if (mask & isa::sync_bit(isa::SyncUnit::LUT)) units[n++] = {progress_.dma_luts, issued_luts_};
  wait_idle(units, units + n);  // accepted at once (its issue cycle); the next fetch waits
}

void Controller::drain() {
  accept_when_idle({{progress_.dma_segments, issued_segments_},
                    {progress_.dma_luts, issued_luts_},
                    lanes_idle(),
                    outliers_idle(),
                    {progress_.writeback, issued_stores_}});
}

}  // namespace lutc::sim

#include "lutc/sim/engine.h"

namespace lutc::sim {

Engine::Engine(sc_core::sc_module_name name, const ArchConfig& arch_, uint32_t batch_, std::vector<SimLayer> layers_,
               const SimOptions& opt)
    : sc_module(name),
      arch(arch_),
      batch(batch_),
      options(opt),
      layers(std::move(layers_)),
      log(opt.keep_trace),
      outputs(layers.size()),
      windows(layers.size()),
      // The controller hands a compute unit a command only when it is idle, so
      // one slot each would do. DMA requests queue between SYNCs as in the
      // RTL (whose request queue is unbounded): a full queue here would stall
      // the controller where the RTL does not.
      dma_queue_("dma_queue", 256),
      lanes_queue_("lanes_queue", 2),
      outlier_queue_("outlier_queue", 2),
      writeback_queue_("writeback_queue", 2),
      weight_sram("weight_sram", 1),
      act_sram("act_sram", batch),
      lut("lut", arch),
      accumulators("accumulators", batch),
      dram("dram", ctx, arch, options),
      dma("dma", ctx, log, options),
      lanes("lanes", ctx, log),
      outlier("outlier", ctx, log),
      writeback("writeback", ctx, log),
      controller("controller", ctx, log, layers, batch,
                 Controller::Progress{&dma.segments_done, &dma.luts_done, &lanes.retired, &outlier.retired,
                                      &writeback.retired},
                 outputs, windows) {
  ctx.batch = batch;
  ctx.arch_hash = arch_hash(arch);
  if (options.keep_issue_log) controller.keep_issue_log(&issues);
  controller.on_program([this](const Program& p) { fit_memories(p); });
  controller.dma(dma_queue_);
  controller.lanes(lanes_queue_);
  controller.outliers(outlier_queue_);
  controller.writeback(writeback_queue_);

  dma.commands(dma_queue_);
  dma.dram.bind(dram.socket);
  dma.weight_sram(weight_sram);
  dma.act_sram(act_sram);
  dma.lut(lut);

  lanes.commands(lanes_queue_);
  lanes.weight_sram(weight_sram);
  lanes.act_sram(act_sram);
  lanes.lut(lut);
  lanes.accumulators(accumulators);

  outlier.commands(outlier_queue_);
  outlier.weight_sram(weight_sram);
  outlier.act_sram(act_sram);
  outlier.accumulators(accumulators);

  writeback.commands(writeback_queue_);
  writeback.accumulators(accumulators);
}

void Engine::fit_memories(const Program& p) {
  const MemoryFootprint f = memory_footprint(p);
  weight_sram.cover(f.weight_sram);
  act_sram.cover(f.act_sram);
  lut.cover(f);
  accumulators.cover(f.lanes);
}

uint64_t Engine::memory_bytes() const {
  return weight_sram.allocated_bytes() + act_sram.allocated_bytes() + lut.allocated_bytes() +
         accumulators.allocated_bytes();
}

}  // namespace lutc::sim

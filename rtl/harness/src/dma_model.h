#pragma once
// The harness's DRAM and DMA engine: a FIFO of DMA_IN and LUT_LOAD requests
// whose DRAM reads are pipelined: a request's data lands a latency after it
// was issued or when the previous one has streamed, whichever is later
// (docs/rtl.md "DMA"). Its data beats go into the engine's write ports from
// then on, so everything has landed when the request stops being busy.
#include <cstdint>
#include <deque>
#include <vector>

#include "lutc/compiler/program.h"

namespace lutc::rtl {

// What the DMA drives into the engine in one cycle.
struct DmaBeat {
  bool sram = false, act = false;  // SRAM write port: target activation SRAM when act
  uint32_t addr = 0;
  std::vector<uint8_t> bytes;  // up to the port width
  struct LutWrite {
    bool we = false, base = false;  // base: this word starts a book; load its base register
    uint32_t addr = 0, word = 0;
    int32_t base_value = 0;
  };
  std::vector<LutWrite> lut;  // LUT load ports, one per bank (empty: none this cycle)
};

class DmaModel {
 public:
  DmaModel(const Program& p, const std::vector<int32_t>& act_ints, uint32_t port_bytes);
  // The LUT port schedule: per bank, its words in load order.
  using BankWrites = std::vector<std::vector<DmaBeat::LutWrite>>;

  // The engine issued DMA_IN (lut = false: seg, src, dst, bytes) or LUT_LOAD
  // (lut = true: first, count) in cycle `cycle`.
  void issue(bool lut, const uint32_t f[4], uint64_t cycle);
  // Busy flags the engine sees in `cycle`.
  bool dma_busy(uint64_t cycle) const { return busy(false, cycle); }
  bool lut_busy(uint64_t cycle) const { return busy(true, cycle); }
  // The write-port beat for `cycle` (call once per cycle, in order).
  DmaBeat beat(uint64_t cycle);

  uint64_t dram_bytes = 0, weight_sram_write_bytes = 0, act_sram_write_bytes = 0, lut_writes = 0;
  uint64_t busy_cycles = 0;

 private:
  struct Request {
    bool lut;
    uint32_t f[4];
    uint64_t issued = 0, start = 0, data_at = 0, done = 0;
    std::vector<DmaBeat> beats;  // SRAM beats, one per cycle
    BankWrites lut_writes;       // LUT words, one per bank per cycle
    size_t next = 0;
  };
  bool busy(bool lut, uint64_t cycle) const;
  void schedule(Request& r, uint64_t earliest);
  std::vector<DmaBeat> beats_of(const Request& r) const;
  BankWrites lut_writes_of(const Request& r) const;

  const Program& p_;
  const std::vector<int32_t>& act_;
  uint32_t port_;
  std::deque<Request> queue_;
  uint64_t free_at_ = 0;  // when the DRAM channel has streamed every earlier request
};

}  // namespace lutc::rtl

#include "dma_model.h"

#include <algorithm>
#include <cmath>

namespace lutc::rtl {

DmaModel::DmaModel(const Program& p, const std::vector<int32_t>& act_ints, uint32_t port_bytes)
    : p_(p), act_(act_ints), port_(port_bytes) {}

namespace {
uint64_t ceil_div(double a, double b) { return uint64_t(std::ceil(a / b)); }
}  // namespace

void DmaModel::issue(bool lut, const uint32_t f[4], uint64_t cycle) {
  Request r;
  r.lut = lut;
  std::copy(f, f + 4, r.f);
  r.issued = cycle;
  r.beats = beats_of(r);
  if (lut) r.lut_writes = lut_writes_of(r);
  // DRAM: the first byte lands a latency after the request, or when the
  // previous transfer has finished streaming, whichever is later (requests
  // are pipelined); then bytes stream at dram.bytes_per_cycle. The write
  // port can slow that: SRAM port_ bytes per cycle, LUT one word per bank per cycle.
  // LUT image bytes in DRAM: each word at its HIF width rounded up to bytes,
  // plus a 4-byte base per record.
  const double bpc = p_.arch.dram_stream_bytes_per_cycle();
  uint64_t bytes, port_cycles;
  using LutLoad = isa::fields::LUT_LOAD;
  using DmaIn = isa::fields::DMA_IN;
  if (lut) {
    const uint32_t first = f[LutLoad::first], count = f[LutLoad::count];
    uint64_t words = 0;
    for (uint32_t i = first; i < first + count; ++i) words += p_.lut_image[i].words.size();
    bytes = words * ((p_.arch.hif_word_bits() + 7) / 8) + 4ull * count;
    port_cycles = 0;
    for (const auto& bank : r.lut_writes) port_cycles = std::max<uint64_t>(port_cycles, bank.size());
    lut_writes += words;
  } else {
    bytes = f[DmaIn::bytes];
    port_cycles = ceil_div(double(bytes), port_);
    (f[DmaIn::seg] == uint32_t(isa::Segment::ACT) ? act_sram_write_bytes : weight_sram_write_bytes) += bytes;
  }
  dram_bytes += bytes;
  r.start = cycle + 1;
  r.data_at = std::max(r.start + p_.arch.dram_latency_cycles, free_at_);
  r.done = r.data_at + std::max(ceil_div(double(bytes), bpc), port_cycles);
  free_at_ = r.done;
  queue_.push_back(std::move(r));
}

bool DmaModel::busy(bool lut, uint64_t cycle) const {
  for (const Request& r : queue_)
    if (r.lut == lut && r.issued < cycle && cycle < r.done) return true;
  return false;
}

DmaModel::BankWrites DmaModel::lut_writes_of(const Request& r) const {
  BankWrites out(p_.arch.lut_banks);
  const uint32_t first = r.f[isa::fields::LUT_LOAD::first], count = r.f[isa::fields::LUT_LOAD::count];
  for (uint32_t i = first; i < first + count; ++i) {
    const LutRecord& rec = p_.lut_image[i];
    for (size_t w = 0; w < rec.words.size(); ++w) {
      DmaBeat::LutWrite lw;
      lw.we = true;
      lw.base = w == 0;
      lw.addr = rec.addr + uint32_t(w);
      lw.word = rec.words[w];
      lw.base_value = rec.base;
      out[rec.bank].push_back(lw);
    }
  }
  return out;
}

std::vector<DmaBeat> DmaModel::beats_of(const Request& r) const {
  std::vector<DmaBeat> out;
  if (r.lut) return out;
  using F = isa::fields::DMA_IN;
  const uint32_t seg = r.f[F::seg], src = r.f[F::src], dst = r.f[F::dst], bytes = r.f[F::bytes];
  const bool act = seg == uint32_t(isa::Segment::ACT);
  const uint32_t act_bytes = p_.arch.act_bits / 8;
  for (uint32_t done = 0; done < bytes;) {
    DmaBeat b;
    b.sram = true;
    b.act = act;
    b.addr = dst + done;
    const uint32_t n = std::min(port_, bytes - done);
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t at = src + done + i;
      // The ACT segment is the host's integer vector, act_bits little-endian each.
      b.bytes.push_back(act ? uint8_t(uint32_t(act_[at / act_bytes]) >> (8 * (at % act_bytes))) : p_.segments[seg][at]);
    }
    out.push_back(std::move(b));
    done += n;
  }
  return out;
}

DmaBeat DmaModel::beat(uint64_t cycle) {
  while (!queue_.empty() && queue_.front().done <= cycle) queue_.pop_front();
  if (!queue_.empty()) ++busy_cycles;
  for (Request& r : queue_) {
    if (cycle < r.data_at) continue;
    if (r.lut) {
      const size_t i = size_t(cycle - r.data_at);
      bool any = false;
      for (const auto& bank : r.lut_writes) any |= i < bank.size();
      if (!any) continue;
      DmaBeat b;
      b.lut.resize(r.lut_writes.size());
      for (size_t k = 0; k < r.lut_writes.size(); ++k)
        if (i < r.lut_writes[k].size()) b.lut[k] = r.lut_writes[k][i];
      return b;
    }
    if (r.next < r.beats.size()) return r.beats[r.next++];
  }
  return DmaBeat{};
}

}  // namespace lutc::rtl

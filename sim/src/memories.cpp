#include "lutc/sim/memories.h"

#include <algorithm>

namespace lutc::sim {

Sram::Sram(sc_core::sc_module_name name, uint32_t copies) : sc_module(name), mem_(copies) {}

LutSram::LutSram(sc_core::sc_module_name name, const ArchConfig& arch)
    : sc_module(name), banks_(arch.lut_banks), words_(arch.lut_banks) {}

void LutSram::cover(const MemoryFootprint& f) {
  words_.cover(f.lut_words);
  base_.cover(f.lut_slots);
}

void LutSram::load(const LutRecord& r, uint32_t entries) {
  std::copy(r.words.begin(), r.words.end(), words_.span(r.bank, r.addr, r.words.size()));
  *base_.span(0, uint64_t(r.addr / entries) * banks_ + r.bank, 1) = r.base;
}

const uint32_t* LutSram::book(uint32_t slot, uint32_t entries) const {
  const uint32_t bank = slot % banks_;
  const uint64_t addr = uint64_t(slot / banks_) * entries;
  if (const uint32_t* w = words_.span(bank, addr, entries)) return w;
  book_.resize(entries);
  for (uint32_t c = 0; c < entries; ++c) book_[c] = words_.at(bank, addr + c);
  return book_.data();
}

Accumulators::Accumulators(sc_core::sc_module_name name, uint32_t batch) : sc_module(name), batch_(batch) {}

void Accumulators::cover(uint32_t lanes) {
  if (lanes <= lanes_) return;
  acc_.resize(size_t(lanes) * batch_, 0);  // lane-major: the old lanes keep their place
  lanes_ = lanes;
}

}  // namespace lutc::sim

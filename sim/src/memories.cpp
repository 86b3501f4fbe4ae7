#include "lutc/sim/memories.h"

#include <algorithm>

namespace lutc::sim {

Sram::Sram(sc_core::sc_module_name name, uint64_t bytes, uint32_t copies)
    : sc_module(name), size_(bytes), data_(size_t(bytes) * copies, 0) {}

LutSram::LutSram(sc_core::sc_module_name name, const ArchConfig& arch)
    : sc_module(name),
      banks_(arch.lut_banks),
      bank_words_(arch.lut_bank_words),
      words_(size_t(arch.lut_banks) * arch.lut_bank_words, 0),
      // The smallest book (b = 2) has 4 words: that many slots at most.
      base_(std::max<size_t>(1, size_t(arch.lut_words() / 4)), 0) {}

void LutSram::load(const LutRecord& r, uint32_t entries) {
  std::copy(r.words.begin(), r.words.end(), words_.begin() + size_t(r.bank) * bank_words_ + r.addr);
  base_[(size_t(r.addr / entries) * banks_ + r.bank) % base_.size()] = r.base;
}

const uint32_t* LutSram::book(uint32_t slot, uint32_t entries) const {
  return words_.data() + size_t(slot % banks_) * bank_words_ + size_t(slot / banks_) * entries;
}

Accumulators::Accumulators(sc_core::sc_module_name name, uint32_t lanes, uint32_t batch)
    : sc_module(name), batch_(batch), acc_(size_t(lanes) * batch, 0) {}

}  // namespace lutc::sim

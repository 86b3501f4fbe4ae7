#pragma once
// The engine's on-chip storage: weight/metadata SRAM and activation SRAM (each
// two halves the program double-buffers; the model does not split them, the
// program's addresses do), the banked LUT SRAM with its base registers, and
// the accumulators. Units reach them through sc_ports bound to these
// interfaces; the arithmetic reads and writes go straight to the arrays, and
// the timing of each access is charged by the unit that makes it.
//
// The arrays hold what the programs run so far touch (memory_footprint), not
// the arch's capacity: the engine grows them before each layer, while every
// unit is idle. What lies past them was never written and reads as zero.
#include <systemc>

#include <cstdint>
#include <vector>

#include "lutc/compiler/arch_config.h"
#include "lutc/compiler/memory_footprint.h"
#include "lutc/compiler/program.h"

namespace lutc::sim {

using u128 = unsigned __int128;

class SramIf : public virtual sc_core::sc_interface {
 public:
  // Bytes [addr, addr + len) of one copy (one per activation vector for the
  // activation SRAM; one for weights). Every static range of a verified
  // program lies in what the memory holds; nullptr for anything else.
  virtual uint8_t* span(uint32_t copy, uint64_t addr, uint64_t len) = 0;
  // One byte; zero where nothing was ever written.
  virtual uint8_t byte(uint32_t copy, uint64_t addr) const = 0;
};

class LutIf : public virtual sc_core::sc_interface {
 public:
  virtual void load(const LutRecord& r, uint32_t entries) = 0;
  virtual const uint32_t* book(uint32_t slot, uint32_t entries) const = 0;
  virtual int32_t base(uint32_t slot) const = 0;
  virtual uint32_t bank_of(uint32_t slot) const = 0;
  virtual uint32_t banks() const = 0;
};

class AccumulatorIf : public virtual sc_core::sc_interface {
 public:
  // batch accumulators of lane `row` (modulo 2^128; STORE checks the width);
  // nullptr past the lanes any DECODE_MAC or STORE uses (never read).
  virtual u128* lane(uint32_t row) = 0;
};

class Sram : public sc_core::sc_module, public SramIf {
 public:
  Sram(sc_core::sc_module_name name, uint32_t copies);
  uint8_t* span(uint32_t copy, uint64_t addr, uint64_t len) override { return mem_.span(copy, addr, len); }
  uint8_t byte(uint32_t copy, uint64_t addr) const override { return mem_.at(copy, addr); }
  void cover(const AddressMap& m) { mem_.cover(m); }
  uint64_t allocated_bytes() const { return mem_.allocated_bytes(); }

 private:
  PackedMemory<uint8_t> mem_;
};

class LutSram : public sc_core::sc_module, public LutIf {
 public:
  LutSram(sc_core::sc_module_name name, const ArchConfig& arch);
  void load(const LutRecord& r, uint32_t entries) override;
  // A slot no record loaded reads as zero words with base zero.
  const uint32_t* book(uint32_t slot, uint32_t entries) const override;
  int32_t base(uint32_t slot) const override { return base_.at(0, slot); }
  uint32_t bank_of(uint32_t slot) const override { return slot % banks_; }
  uint32_t banks() const override { return banks_; }
  void cover(const MemoryFootprint& f);
  uint64_t allocated_bytes() const {
    return words_.allocated_bytes() + base_.allocated_bytes() + book_.size() * sizeof(uint32_t);
  }

 private:
  uint32_t banks_;
  PackedMemory<uint32_t> words_;        // one copy per bank
  PackedMemory<int32_t> base_;          // by slot
  mutable std::vector<uint32_t> book_;  // a book not wholly loaded, zeros where not
};

class Accumulators : public sc_core::sc_module, public AccumulatorIf {
 public:
  Accumulators(sc_core::sc_module_name name, uint32_t batch);
  u128* lane(uint32_t row) override { return row < lanes_ ? acc_.data() + size_t(row) * batch_ : nullptr; }
  // Grows to `lanes` lanes, keeping their values.
  void cover(uint32_t lanes);
  uint64_t allocated_bytes() const { return acc_.size() * sizeof(u128); }

 private:
  uint32_t batch_, lanes_ = 0;
  std::vector<u128> acc_;
};

}  // namespace lutc::sim

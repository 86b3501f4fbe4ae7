#pragma once
// The engine's on-chip storage: weight/metadata SRAM and activation SRAM (each
// two halves the program double-buffers; the model does not split them, the
// program's addresses do), the banked LUT SRAM with its base registers, and
// the accumulators. Units reach them through sc_ports bound to these
// interfaces; the arithmetic reads and writes go straight to the arrays, and
// the timing of each access is charged by the unit that makes it.
#include <systemc>

#include <cstdint>
#include <vector>

#include "lutc/compiler/arch_config.h"
#include "lutc/compiler/program.h"

namespace lutc::sim {

using u128 = unsigned __int128;

class SramIf : public virtual sc_core::sc_interface {
 public:
  // One copy per activation vector for the activation SRAM; one for weights.
  virtual uint8_t* bytes(uint32_t copy) = 0;
  virtual uint64_t size() const = 0;
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
  // batch accumulators of lane `row` (modulo 2^128; STORE checks the width).
  virtual u128* lane(uint32_t row) = 0;
};

class Sram : public sc_core::sc_module, public SramIf {
 public:
  Sram(sc_core::sc_module_name name, uint64_t bytes, uint32_t copies);
  uint8_t* bytes(uint32_t copy) override { return data_.data() + size_t(copy) * size_; }
  uint64_t size() const override { return size_; }

 private:
  uint64_t size_;
  std::vector<uint8_t> data_;
};

class LutSram : public sc_core::sc_module, public LutIf {
 public:
  LutSram(sc_core::sc_module_name name, const ArchConfig& arch);
  void load(const LutRecord& r, uint32_t entries) override;
  const uint32_t* book(uint32_t slot, uint32_t entries) const override;
  int32_t base(uint32_t slot) const override { return base_[slot % base_.size()]; }
  uint32_t bank_of(uint32_t slot) const override { return slot % banks_; }
  uint32_t banks() const override { return banks_; }

 private:
  uint32_t banks_, bank_words_;
  std::vector<uint32_t> words_;  // bank-major
  std::vector<int32_t> base_;    // one per smallest possible book (2 words)
};

class Accumulators : public sc_core::sc_module, public AccumulatorIf {
 public:
  Accumulators(sc_core::sc_module_name name, uint32_t lanes, uint32_t batch);
  u128* lane(uint32_t row) override { return acc_.data() + size_t(row) * batch_; }

 private:
  uint32_t batch_;
  std::vector<u128> acc_;
};

}  // namespace lutc::sim

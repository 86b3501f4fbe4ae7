#pragma once
// A compiled layer in memory: what a .lutp file holds (docs/lutp-format.md).
#include <cstdint>
#include <string>
#include <vector>

#include "lutc/compiler/arch_config.h"
#include "lutc/compiler/hif.h"
#include "lutc/compiler/isa.h"
#include "lutc/model/layer.h"
// The records of the weight SRAM and DRAM segments (engine rules).
#include "lutc/spec/meta_record.h"
#include "lutc/spec/outlier_record.h"

namespace lutc {

struct ProgramMeta {
  std::string layer;
  Scheme scheme = Scheme::kXfpV2;
  uint32_t bits = 0;
  uint32_t rows = 0;
  uint32_t cols = 0;
  uint32_t group = 0;      // elements per group as the datapath sees it (cols when none)
  int32_t weight_exp = 0;  // Ew, also in a CFG instruction
  uint32_t tile_rows = 0;
  uint32_t tile_cols = 0;
  uint32_t acc_bits_needed = 0;  // proven bound on |acc|, in signed bits
};

// One LUT_LOAD record: a book's words into bank `bank` from word `addr`, and
// its base into that slot's base register. Slot s lives in bank s % banks at
// address (s / banks) * entries (docs/lutp-format.md "LUT image").
struct LutRecord {
  uint32_t bank = 0;
  uint32_t addr = 0;
  int32_t base = 0;
  std::vector<uint32_t> words;  // HIF words, 2^bits of them
};

struct Program {
  std::string arch_text;  // canonical_arch_text of the target, parsed back on load
  uint64_t arch_hash = 0;
  ArchConfig arch;
  ProgramMeta meta;
  std::vector<LutRecord> lut_image;
  // DRAM segments by isa::Segment code (ACT is the host's and stays empty).
  std::vector<uint8_t> segments[isa::kSegmentCount];
  std::vector<isa::Instruction> code;

  HifFormat hif() const { return HifFormat{arch.hif_mant_bits, arch.hif_shift_bits}; }
  uint32_t entries() const { return 1u << meta.bits; }
  uint32_t lut_slots() const { return uint32_t(arch.lut_words() / entries()); }
};

}  // namespace lutc

#pragma once
// The layer now running, as every unit sees it: the program (its DRAM image
// and metadata), the batch, the host's integer activations and where y goes.
// The controller switches it between layers while every unit is idle.
#include <cstdint>
#include <memory>
#include <vector>

#include "lutc/compiler/program.h"

namespace lutc::sim {

struct RunContext {
  uint64_t arch_hash = 0;  // the engine's; every program must match it
  std::shared_ptr<const Program> program;
  uint32_t layer_index = 0;
  uint32_t batch = 1;
  // Functional runs compute y; timing-only runs (no activations given) move
  // and count the same data but skip the arithmetic and the index copies.
  bool functional = false;
  std::vector<std::vector<uint8_t>> act_images;  // per vector: the ACT segment the host writes
  std::vector<int> act_exp;                      // per vector: ea
  std::vector<float>* y = nullptr;               // batch x rows
  std::vector<uint8_t> row_stored;               // rows written by STORE

  uint32_t act_bytes() const { return program->arch.act_bits / 8; }
};

}  // namespace lutc::sim

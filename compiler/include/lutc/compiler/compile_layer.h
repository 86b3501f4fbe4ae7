#pragma once
// lutc compile for one layer: HIF lowering, fixed-point view, tiling, DRAM
// layout and the instruction stream (docs/isa.md "Program shape").
#include <string>

#include "lutc/compiler/layer_luts.h"
#include "lutc/compiler/program.h"
#include "lutc/compiler/tiling.h"

namespace lutc {

struct CompileReport {
  HifErrorReport hif;
  TilePlan plan;
  uint64_t program_bytes = 0;  // size of the serialized .lutp
};

// Throws Error(kBadInput) naming the layer and the constraint when the layer
// cannot be lowered for `arch` (codebooks larger than the LUT, an
// accumulator too narrow, a tile that fits no buffer).
Program compile_layer(const QuantizedLayer& layer, const ArchConfig& arch, CompileReport* report = nullptr);

// One compile for every arch with the same arch_code_key (arch_config.h):
// compile_layer reads only the kCode keys to shape a program, checks the
// kLimit keys (the accumulator bound against core.acc_bits) and copies the
// whole arch into META (its hash and canonical text), where the engines read
// the kTiming keys. So for archs A and B with equal code keys
//   serialize_lutp(retarget(compile_layer(l, A), B)) == serialize_lutp(compile_layer(l, B))
// byte for byte, and retarget throws exactly the error compile_layer(l, B)
// throws when B's accumulator is too narrow.

// compile_layer without the kLimit checks: a program to retarget to archs
// that may differ from `arch` in core.acc_bits (retarget checks it for them).
Program compile_layer_for_code(const QuantizedLayer& layer, const ArchConfig& arch, CompileReport* report = nullptr);
// `p` for `arch`: the embedded arch replaced. Throws Error(kBadInput) naming
// the keys when the code keys differ, and compile_layer's accumulator error
// when `arch` cannot run `p`.
Program retarget(Program p, const ArchConfig& arch);
// The checks retarget makes, for a program compiled for `from` with `meta`.
void check_retarget(const ArchConfig& from, const ProgramMeta& meta, const ArchConfig& to);
// compile_layer's kLimit checks of `arch` against a compiled program.
void check_arch_limits(const ProgramMeta& meta, const ArchConfig& arch);

}  // namespace lutc

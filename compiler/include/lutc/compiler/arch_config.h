#pragma once
// The hardware a program is compiled for (docs/arch.md): an .ini file read
// with Boost.Program_options. Every key, its default, range, role and RTL
// fit is one row of arch_keys.def; unknown keys, repeated keys and
// out-of-range values are errors naming the file, the key and the constraint.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lutc {

// pJ per action at the node the numbers were measured in (45 nm, Horowitz
// ISSCC 2014), multiplied by node_scale when used (docs/arch.md "Energy").
// Fields and defaults: the LUTC_ENERGY_KEY rows of arch_keys.def.
struct EnergyTable {
#define LUTC_ARCH_KEY(...)
#define LUTC_ENERGY_KEY(field, type, key, def, ...) type field = def;
#include "lutc/compiler/arch_keys.def"
#undef LUTC_ARCH_KEY
#undef LUTC_ENERGY_KEY
};

// A default-constructed ArchConfig is the built-in default arch without its
// name. Fields and defaults: the LUTC_ARCH_KEY rows of arch_keys.def.
struct ArchConfig {
  std::string name;  // from the file name; not hashed
#define LUTC_ARCH_KEY(field, type, key, def, ...) type field = def;
#define LUTC_ENERGY_KEY(...)
#include "lutc/compiler/arch_keys.def"
#undef LUTC_ARCH_KEY
#undef LUTC_ENERGY_KEY
  EnergyTable energy;

  uint64_t lut_words() const { return uint64_t(lut_banks) * lut_bank_words; }
  uint64_t weight_sram_bytes() const { return uint64_t(weight_sram_kib) * 1024; }
  uint64_t act_sram_bytes() const { return uint64_t(act_sram_kib) * 1024; }
  unsigned hif_word_bits() const { return 1 + hif_mant_bits + hif_shift_bits; }
  // The rate DRAM streams at once a request has started: what every engine
  // model (SystemC, the RTL harness's DMA) charges transfers at. Refresh
  // takes the channel for dram.refresh_overhead of the time.
  double dram_stream_bytes_per_cycle() const { return dram_bytes_per_cycle * (1 - dram_refresh_overhead); }
};

// The built-in defaults (identical to examples/arch/default.ini), named "default".
ArchConfig default_arch();
// Reads and validates an .ini file; `name` becomes the file's stem.
ArchConfig load_arch(const std::string& path);
// The same from text; `origin` names the source in error messages.
ArchConfig parse_arch(const std::string& text, const std::string& origin);
// Throws Error(kBadInput) naming `origin`, the key and the constraint.
void validate_arch(const ArchConfig& a, const std::string& origin);

// Every key as "section.key=value\n", sorted, values printed canonically, so
// that two files describing the same hardware give the same text and hash.
// A key whose row says UnlessDefault is listed only when it differs from
// its default.
std::string canonical_arch_text(const ArchConfig& a);
uint64_t arch_hash(const ArchConfig& a);  // FNV-1a 64 of canonical_arch_text
uint64_t fnv1a64(const void* data, size_t n);

// What a key means to the compiler (docs/arch.md "What a program depends on").
// Every key has exactly one role, in the same table that parses and hashes it.
enum class ArchKeyRole {
  kCode,    // compile_layer reads it to shape the program: HIF words, tiling, SRAM and LUT layout
  kLimit,   // compile_layer only checks the program against it (core.acc_bits); no byte depends on it
  kTiming,  // only the engine models read it (clock, LUT ports, DRAM, energy): cycles and energy
};

// How a key's value must relate to the structure the RTL was verilated
// with (rtl_engine.h `unsupported_arch`).
enum class RtlFit {
  kAny,      // not structural: any value runs on the verilated engine
  kAtMost,   // the verilated value is a capacity: the arch may use less
  kExactly,  // the verilated value is the structure itself
};

// When a key is part of the canonical text (and so of every hash).
enum class ArchKeyHash {
  kAlways,
  kUnlessDefault,  // only when it differs from its default: old hashes stay valid
};

struct ArchKeyInfo {
  std::string key;  // "section.key"
  ArchKeyRole role;
  bool integer;   // whole numbers only
  double lo, hi;  // valid range
  double default_value;
  RtlFit rtl;
  std::string column;  // explore results column; empty: none
  ArchKeyHash hash;
  std::string help;
};
const std::vector<ArchKeyInfo>& arch_keys();           // every key, in table order
std::vector<double> arch_values(const ArchConfig& a);  // a's value of each key, in table order
// `v` printed as the canonical text prints key `k`'s values.
std::string arch_value_text(const ArchKeyInfo& k, double v);

// The canonical lines (as in canonical_arch_text) of the kCode keys only, and
// their FNV-1a 64. Two archs with the same code key get the same program from
// compile_layer except for the embedded arch (META: hash and text), so one
// compile serves both (compile_layer.h `retarget`, lutp_file.h `retarget_lutp`).
std::string arch_code_text(const ArchConfig& a);
uint64_t arch_code_key(const ArchConfig& a);

}  // namespace lutc

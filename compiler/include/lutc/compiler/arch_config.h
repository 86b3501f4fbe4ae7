#pragma once
// The hardware a program is compiled for (docs/arch.md): an .ini file read
// with Boost.Program_options. Every key has a default (examples/arch/default.ini);
// unknown keys, repeated keys and out-of-range values are errors naming the
// file, the key and the constraint.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lutc {

// pJ per action at the node the numbers were measured in (45 nm, Horowitz
// ISSCC 2014), multiplied by node_scale when used (docs/arch.md "Energy").
struct EnergyTable {
  double dram_byte_pj = 0;            // off-chip, not scaled by node_scale
  double sram_read_64b_8kib_pj = 0;   // reference points for SRAM reads by size
  double sram_read_64b_32kib_pj = 0;
  double sram_read_64b_1mib_pj = 0;
  double sram_write_factor = 0;       // write energy / read energy
  double lut_read_pj = 0;             // one HIF word from a LUT bank
  double mult_8b_pj = 0;              // integer multiply, 8 x 8
  double mult_16b_pj = 0;             // integer multiply, 16 x 16
  double add_32b_pj = 0;              // integer add, 32 bit
  double acc_add_pj = 0;              // one add into the wide accumulator
  double outlier_op_pj = 0;           // one outlier correction (multiply + add)
  double leakage_pj_per_cycle = 0;    // whole engine
  double node_scale = 0;              // on-chip energy factor vs 45 nm
  uint32_t node_nm = 0;               // informational: the node node_scale targets
};

struct ArchConfig {
  std::string name;  // from the file name; not hashed
  uint32_t lanes = 0;
  double clock_mhz = 0;
  uint32_t acc_bits = 0;        // signed accumulator width; the compiler proves no overflow
  uint32_t lut_banks = 0;
  uint32_t lut_ports = 0;       // read ports per bank
  uint32_t lut_bank_words = 0;  // HIF words per bank
  uint32_t hif_mant_bits = 0;
  uint32_t hif_shift_bits = 0;
  uint32_t act_bits = 0;        // 8 or 16
  uint32_t weight_sram_kib = 0; // double-buffered indices + metadata + outliers
  uint32_t act_sram_kib = 0;    // double-buffered activation chunks
  double dram_bytes_per_cycle = 0;
  uint32_t dram_latency_cycles = 0;
  EnergyTable energy;

  uint64_t lut_words() const { return uint64_t(lut_banks) * lut_bank_words; }
  uint64_t weight_sram_bytes() const { return uint64_t(weight_sram_kib) * 1024; }
  uint64_t act_sram_bytes() const { return uint64_t(act_sram_kib) * 1024; }
  unsigned hif_word_bits() const { return 1 + hif_mant_bits + hif_shift_bits; }
};

// The built-in defaults (identical to examples/arch/default.ini).
ArchConfig default_arch();
// Reads and validates an .ini file; `name` becomes the file's stem.
ArchConfig load_arch(const std::string& path);
// The same from text; `origin` names the source in error messages.
ArchConfig parse_arch(const std::string& text, const std::string& origin);
// Throws Error(kBadInput) naming `origin`, the key and the constraint.
void validate_arch(const ArchConfig& a, const std::string& origin);

// Every key as "section.key=value\n", sorted, values printed canonically, so
// that two files describing the same hardware give the same text and hash.
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

struct ArchKeyInfo {
  std::string key;  // "section.key"
  ArchKeyRole role;
  bool integer;     // whole numbers only
  double lo, hi;    // valid range
  std::string help;
};
std::vector<ArchKeyInfo> arch_keys();  // every key, in table order

// The canonical lines (as in canonical_arch_text) of the kCode keys only, and
// their FNV-1a 64. Two archs with the same code key get the same program from
// compile_layer except for the embedded arch (META: hash and text), so one
// compile serves both (compile_layer.h `retarget`, lutp_file.h `retarget_lutp`).
std::string arch_code_text(const ArchConfig& a);
uint64_t arch_code_key(const ArchConfig& a);

}  // namespace lutc

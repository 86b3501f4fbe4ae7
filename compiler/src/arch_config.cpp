// Arch .ini files: one key table drives parsing, defaults, validation and the
// canonical text the hash is taken over, so a key cannot be parsed but not
// hashed (or hashed but not validated).
#include "lutc/compiler/arch_config.h"

#include <algorithm>
#include <boost/program_options.hpp>
#include <map>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <type_traits>
#include <vector>

#include "lutc/model/error.h"
#include "lutc/model/suggest.h"
#include "lutc/model/text_file.h"

namespace lutc {
namespace po = boost::program_options;
namespace {

constexpr ArchKeyRole kCode = ArchKeyRole::kCode, kLimit = ArchKeyRole::kLimit, kTiming = ArchKeyRole::kTiming;

// Visits every key with its role (what the compiler does with it, docs/arch.md
// "What a program depends on") and its range. Integer keys are uint32_t, the
// rest double. A new key needs a role here: the compiler's program cache and
// `retarget` trust it.
template <typename A, typename F>
void for_each_key(A& a, F&& f) {
  f("core.lanes", kCode, a.lanes, 1, 4096, "decode lanes (rows in flight)");
  f("core.clock_mhz", kTiming, a.clock_mhz, 1, 10000, "clock frequency, MHz");
  f("core.acc_bits", kLimit, a.acc_bits, 32, 128, "signed accumulator width, bits");
  f("lut.banks", kCode, a.lut_banks, 1, 1024, "LUT SRAM banks");
  f("lut.ports", kTiming, a.lut_ports, 1, 8, "read ports per LUT bank");
  f("lut.bank_words", kCode, a.lut_bank_words, 4, 1u << 20, "HIF words per LUT bank");
  f("hif.mant_bits", kCode, a.hif_mant_bits, 2, 13, "HIF unsigned mantissa width");
  f("hif.shift_bits", kCode, a.hif_shift_bits, 0, 6, "HIF right-shift field width");
  f("act.bits", kCode, a.act_bits, 8, 16, "signed integer activation width (8 or 16)");
  f("sram.weight_kib", kCode, a.weight_sram_kib, 1, 262144, "weight/metadata SRAM, KiB (both buffers)");
  f("sram.act_kib", kCode, a.act_sram_kib, 1, 16384, "activation SRAM, KiB (both buffers)");
  f("dram.bytes_per_cycle", kTiming, a.dram_bytes_per_cycle, 0.01, 65536, "DRAM bandwidth, bytes per cycle");
  f("dram.latency_cycles", kTiming, a.dram_latency_cycles, 0, 1000000, "DRAM latency, cycles");
  auto& e = a.energy;
  f("energy.dram_byte_pj", kTiming, e.dram_byte_pj, 0, 1e6, "DRAM access, pJ per byte");
  f("energy.sram_read_64b_8kib_pj", kTiming, e.sram_read_64b_8kib_pj, 0, 1e6, "64-bit read, 8 KiB SRAM, pJ");
  f("energy.sram_read_64b_32kib_pj", kTiming, e.sram_read_64b_32kib_pj, 0, 1e6, "64-bit read, 32 KiB SRAM, pJ");
  f("energy.sram_read_64b_1mib_pj", kTiming, e.sram_read_64b_1mib_pj, 0, 1e6, "64-bit read, 1 MiB SRAM, pJ");
  f("energy.sram_write_factor", kTiming, e.sram_write_factor, 0, 100, "SRAM write / read energy");
  f("energy.lut_read_pj", kTiming, e.lut_read_pj, 0, 1e6, "one LUT word read, pJ");
  f("energy.mult_8b_pj", kTiming, e.mult_8b_pj, 0, 1e6, "8-bit integer multiply, pJ");
  f("energy.mult_16b_pj", kTiming, e.mult_16b_pj, 0, 1e6, "16-bit integer multiply, pJ");
  f("energy.add_32b_pj", kTiming, e.add_32b_pj, 0, 1e6, "32-bit integer add, pJ");
  f("energy.acc_add_pj", kTiming, e.acc_add_pj, 0, 1e6, "one wide accumulator add, pJ");
  f("energy.outlier_op_pj", kTiming, e.outlier_op_pj, 0, 1e6, "one outlier correction, pJ");
  f("energy.leakage_pj_per_cycle", kTiming, e.leakage_pj_per_cycle, 0, 1e9, "leakage, pJ per cycle");
  f("energy.node_scale", kTiming, e.node_scale, 0.001, 10, "on-chip energy factor vs 45 nm");
  f("energy.node_nm", kTiming, e.node_nm, 1, 1000, "process node the scale targets, nm");
}

[[noreturn]] void fail_key(const std::string& origin, const std::string& key, const std::string& what) {
  throw Error(ExitCode::kBadInput, "arch config '" + origin + "', key '" + key + "': " + what);
}

std::string format_value(uint32_t v) { return std::to_string(v); }
std::string format_value(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

ArchConfig default_arch() {
  ArchConfig a;
  a.name = "default";
  a.lanes = 64;
  a.clock_mhz = 1000;
  a.acc_bits = 96;
  a.lut_banks = 16;
  a.lut_ports = 1;
  a.lut_bank_words = 2048;
  a.hif_mant_bits = 11;
  a.hif_shift_bits = 5;
  a.act_bits = 16;
  a.weight_sram_kib = 256;
  a.act_sram_kib = 64;
  a.dram_bytes_per_cycle = 64;
  a.dram_latency_cycles = 200;
  EnergyTable& e = a.energy;
  e.dram_byte_pj = 20;  // Horowitz: 1.3-2.6 nJ per 64 bit -> 20-40 pJ/B (low end)
  e.sram_read_64b_8kib_pj = 10;
  e.sram_read_64b_32kib_pj = 20;
  e.sram_read_64b_1mib_pj = 100;
  e.sram_write_factor = 1.0;
  e.lut_read_pj = 2.5;  // 8 KiB read scaled to a ~16-bit word
  e.mult_8b_pj = 0.2;
  e.mult_16b_pj = 0.8;  // between 8-bit (0.2) and 32-bit (3.1), quadratic in width
  e.add_32b_pj = 0.1;
  e.acc_add_pj = 0.3;   // ~96-bit add: three 32-bit adders
  e.outlier_op_pj = 3.5;
  e.leakage_pj_per_cycle = 50;
  e.node_scale = 1.0;
  e.node_nm = 45;
  return a;
}

void validate_arch(const ArchConfig& a, const std::string& origin) {
  for_each_key(a, [&](const char* key, ArchKeyRole, const auto& v, double lo, double hi, const char*) {
    const double d = double(v);
    if (!std::isfinite(d) || d < lo || d > hi)
      fail_key(origin, key, "value " + format_value(v) + " outside [" + format_value(lo) + ", " +
                                format_value(hi) + "]");
  });
  if (a.act_bits != 8 && a.act_bits != 16)
    fail_key(origin, "act.bits", "must be 8 or 16, got " + std::to_string(a.act_bits));
  if (a.weight_sram_bytes() < 2 * 64)
    fail_key(origin, "sram.weight_kib", "too small for two buffers");
}

ArchConfig parse_arch(const std::string& text, const std::string& origin) {
  ArchConfig a = default_arch();
  a.name = std::filesystem::path(origin).stem().string();
  po::options_description desc("arch");
  // Every value parses as a double first so that "1e3" and range errors get
  // one message; integer keys must then be whole numbers.
  std::vector<std::pair<std::string, double>> values;
  std::map<std::string, double> parsed;
  std::vector<std::string> keys;
  for_each_key(a, [&](const char* key, ArchKeyRole, auto&, double, double, const char* help) {
    desc.add_options()(key, po::value<std::string>(), help);
    keys.push_back(key);
  });
  po::variables_map vm;
  std::istringstream in(text);
  try {
    po::store(po::parse_config_file(in, desc, /*allow_unregistered=*/false), vm);
  } catch (const po::unknown_option& e) {
    fail_key(origin, e.get_option_name(),
             "unknown key" + did_you_mean(e.get_option_name(), keys) + " (docs/arch.md lists every key)");
  } catch (const po::multiple_occurrences& e) {
    fail_key(origin, e.get_option_name(), "given more than once");
  } catch (const po::error& e) {
    throw Error(ExitCode::kBadInput, "arch config '" + origin + "': " + e.what());
  }
  for_each_key(a, [&](const char* key, ArchKeyRole, auto& v, double, double, const char*) {
    if (!vm.count(key)) return;
    const std::string s = vm[key].as<std::string>();
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (s.empty() || end == s.c_str() || *end != '\0' || !std::isfinite(d))
      fail_key(origin, key, "'" + s + "' is not a number");
    using T = std::decay_t<decltype(v)>;
    if constexpr (std::is_same_v<T, uint32_t>) {
      if (d != std::floor(d) || d < 0 || d > 4294967295.0)
        fail_key(origin, key, "'" + s + "' is not a non-negative integer");
      v = uint32_t(d);
    } else {
      v = d;
    }
  });
  validate_arch(a, origin);
  return a;
}

ArchConfig load_arch(const std::string& path) {
  return parse_arch(read_text_file(path, "arch config"), path);
}

namespace {

// The canonical lines of the keys `keep` accepts, sorted.
template <typename Keep>
std::string canonical_lines(const ArchConfig& a, Keep&& keep) {
  std::vector<std::string> lines;
  for_each_key(a, [&](const char* key, ArchKeyRole role, const auto& v, double, double, const char*) {
    if (keep(role)) lines.push_back(std::string(key) + "=" + format_value(v) + "\n");
  });
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l;
  return out;
}

}  // namespace

std::string canonical_arch_text(const ArchConfig& a) {
  return canonical_lines(a, [](ArchKeyRole) { return true; });
}

std::vector<ArchKeyInfo> arch_keys() {
  std::vector<ArchKeyInfo> out;
  const ArchConfig a = default_arch();
  for_each_key(a, [&](const char* key, ArchKeyRole role, const auto& v, double lo, double hi, const char* help) {
    out.push_back({key, role, std::is_same_v<std::decay_t<decltype(v)>, uint32_t>, lo, hi, help});
  });
  return out;
}

std::string arch_code_text(const ArchConfig& a) {
  return canonical_lines(a, [](ArchKeyRole r) { return r == ArchKeyRole::kCode; });
}

uint64_t arch_code_key(const ArchConfig& a) {
  const std::string t = arch_code_text(a);
  return fnv1a64(t.data(), t.size());
}

uint64_t fnv1a64(const void* data, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t arch_hash(const ArchConfig& a) {
  const std::string t = canonical_arch_text(a);
  return fnv1a64(t.data(), t.size());
}

}  // namespace lutc

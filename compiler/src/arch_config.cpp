// Arch .ini files: one key table (arch_keys.def) drives parsing, defaults,
// validation and the canonical text the hash is taken over, so a key cannot
// be parsed but not hashed (or hashed but not validated).
#include "lutc/compiler/arch_config.h"

#include <algorithm>
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <type_traits>
#include <vector>

#include "lutc/model/error.h"
#include "lutc/model/suggest.h"
#include "lutc/model/text_file.h"

namespace lutc {
namespace po = boost::program_options;
namespace {

// One row of arch_keys.def without its field.
struct KeyRow {
  const char* key;
  double def, lo, hi;
  ArchKeyRole role;
  RtlFit rtl;
  const char* column;
  ArchKeyHash hash;
  const char* help;
};

// Visits every key of `a` (const or not) in table order with its row and
// its field. Integer keys are uint32_t, the rest double.
template <typename A, typename F>
void for_each_key(A& a, F&& f) {
#define LUTC_KEY_ROW(key, def, lo, hi, role, rtl, column, hash, help)                                                  \
  KeyRow {                                                                                                             \
    key, double(def), double(lo), double(hi), ArchKeyRole::k##role, RtlFit::k##rtl, column, ArchKeyHash::k##hash, help \
  }
#define LUTC_ARCH_KEY(field, type, key, ...) f(LUTC_KEY_ROW(key, __VA_ARGS__), a.field);
#define LUTC_ENERGY_KEY(field, type, key, ...) f(LUTC_KEY_ROW(key, __VA_ARGS__), a.energy.field);
#include "lutc/compiler/arch_keys.def"
#undef LUTC_ARCH_KEY
#undef LUTC_ENERGY_KEY
#undef LUTC_KEY_ROW
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
  return a;
}

void validate_arch(const ArchConfig& a, const std::string& origin) {
  for_each_key(a, [&](const KeyRow& k, const auto& v) {
    const double d = double(v);
    if (!std::isfinite(d) || d < k.lo || d > k.hi)
      fail_key(origin, k.key,
               "value " + format_value(v) + " outside [" + format_value(k.lo) + ", " + format_value(k.hi) + "]");
  });
  if (a.act_bits != 8 && a.act_bits != 16)
    fail_key(origin, "act.bits", "must be 8 or 16, got " + std::to_string(a.act_bits));
  if (a.weight_sram_bytes() < 2 * 64) fail_key(origin, "sram.weight_kib", "too small for two buffers");
}

ArchConfig parse_arch(const std::string& text, const std::string& origin) {
  ArchConfig a = default_arch();
  a.name = std::filesystem::path(origin).stem().string();
  po::options_description desc("arch");
  // Every value parses as a double first so that "1e3" and range errors get
  // one message; integer keys must then be whole numbers.
  std::vector<std::string> keys;
  for_each_key(a, [&](const KeyRow& k, auto&) {
    desc.add_options()(k.key, po::value<std::string>(), k.help);
    keys.push_back(k.key);
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
  for_each_key(a, [&](const KeyRow& k, auto& v) {
    if (!vm.count(k.key)) return;
    const std::string s = vm[k.key].as<std::string>();
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (s.empty() || end == s.c_str() || *end != '\0' || !std::isfinite(d))
      fail_key(origin, k.key, "'" + s + "' is not a number");
    using T = std::decay_t<decltype(v)>;
    if constexpr (std::is_same_v<T, uint32_t>) {
      if (d != std::floor(d) || d < 0 || d > 4294967295.0)
        fail_key(origin, k.key, "'" + s + "' is not a non-negative integer");
      v = uint32_t(d);
    } else {
      v = d;
    }
  });
  validate_arch(a, origin);
  return a;
}

ArchConfig load_arch(const std::string& path) { return parse_arch(read_text_file(path, "arch config"), path); }

namespace {

// The canonical lines of the keys `keep` accepts, sorted.
template <typename Keep>
std::string canonical_lines(const ArchConfig& a, Keep&& keep) {
  std::vector<std::string> lines;
  for_each_key(a, [&](const KeyRow& k, const auto& v) {
    if (k.hash == ArchKeyHash::kUnlessDefault && double(v) == k.def) return;
    if (keep(k.role)) lines.push_back(std::string(k.key) + "=" + format_value(v) + "\n");
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

const std::vector<ArchKeyInfo>& arch_keys() {
  static const std::vector<ArchKeyInfo> keys = [] {
    std::vector<ArchKeyInfo> out;
    const ArchConfig a;
    for_each_key(a, [&](const KeyRow& k, const auto& v) {
      out.push_back({k.key, k.role, std::is_same_v<std::decay_t<decltype(v)>, uint32_t>, k.lo, k.hi, k.def, k.rtl,
                     k.column, k.hash, k.help});
    });
    return out;
  }();
  return keys;
}

std::vector<double> arch_values(const ArchConfig& a) {
  std::vector<double> out;
  for_each_key(a, [&](const KeyRow&, const auto& v) { out.push_back(double(v)); });
  return out;
}

std::string arch_value_text(const ArchKeyInfo& k, double v) {
  return k.integer ? format_value(uint32_t(v)) : format_value(v);
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

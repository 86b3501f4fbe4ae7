#pragma once
// A sweep file (.ini, read with Boost.Program_options) expanded into the
// ordered list of points it names: every quantization config crossed with
// every arch config (docs/explore.md "Sweep files"). The order is part of the
// contract: point i is the same point in every run, shard and merge.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "lutc/compiler/arch_config.h"

namespace lutc::explore {

// One quantization config as `lutc quantize` options, in a fixed key order
// (scheme first), so that equal configs have equal text.
struct QuantConfig {
  std::vector<std::pair<std::string, std::string>> options;  // key -> value, e.g. {"bits","4"}
  std::string scheme() const;
  std::string text() const;                        // "scheme=xfp.v2 bits=4"
  std::vector<std::string> quantize_args() const;  // {"--scheme","xfp.v2","--bits","4"}
};

struct ArchPoint {
  ArchConfig arch;
  std::string base;       // stem of the base .ini
  std::string overrides;  // "core.lanes=16;hif.mant_bits=8", in the sweep's key order
};

struct Sweep {
  std::string path;  // the sweep file as given
  std::string name;
  std::string weights;  // a weight file path (resolved) or a synth: spec
  std::string tensors;  // optional regex passed to lutc quantize --tensors
  uint32_t blocks = 1;  // the decode step runs the listed matrices this many times
  uint32_t batch = 1;   // activation vectors per GEMV
  uint64_t seed = 1;    // activations
  std::vector<QuantConfig> quants;
  std::vector<ArchPoint> archs;
  std::string text;  // canonical description; its hash names the sweep

  size_t points() const { return quants.size() * archs.size(); }
  // Point i = quants[i / archs.size()] x archs[i % archs.size()].
  const QuantConfig& quant_of(size_t i) const { return quants[i / archs.size()]; }
  const ArchPoint& arch_of(size_t i) const { return archs[i % archs.size()]; }
  uint64_t hash() const;
};

// Throws Error(kUsage/kBadInput) naming the file, the key and the problem.
Sweep load_sweep(const std::string& path);
Sweep parse_sweep(const std::string& text, const std::string& path);

// "4, 8, 16" | "4..11" | "4..12:2" | "8..64*2" -> the value list, numbers in
// the spelling given (integers stay integers). Throws Error(kUsage) naming key.
std::vector<std::string> expand_values(const std::string& key, const std::string& spec);

}  // namespace lutc::explore

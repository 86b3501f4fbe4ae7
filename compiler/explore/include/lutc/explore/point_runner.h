#pragma once
// One sweep point: compile every quantized layer for the point's arch, run
// the programs on the engine (`lutc sim`: one process per point, or per layer),
// and sum the model's decode step. The result is one JSON row (docs/explore.md columns)
// plus its per-layer table.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "lutc/compiler/layer_luts.h"
#include "lutc/explore/program_cache.h"
#include "lutc/explore/quant_cache.h"
#include "lutc/explore/sweep.h"

namespace lutc::explore {

struct EngineOptions {
  std::string exe;              // the lutc to run (this executable by default)
  std::string command = "sim";  // sim (SystemC) or rtl
  // false: the whole decode step in one process (`lutc sim A.lutp B.lutp ... --batch B`,
  // timing-only); true: one functional process per layer (`X.lutp --x x.npy`).
  bool per_layer = false;
  std::string mode() const { return command + (per_layer ? "/layer" : "/step"); }
};

// Seeded activation vectors, one .npy per (cols, batch, seed), made once.
class ActivationStore {
 public:
  explicit ActivationStore(std::string dir);
  std::string path_for(uint32_t cols, uint32_t batch, uint64_t seed);

 private:
  std::string dir_;
  std::mutex mu_;
  std::map<std::string, bool> made_;
};

// HIF rounding error per (quantized layer, HIF widths): it does not depend
// on the rest of the arch, and measuring it decodes every weight, which would
// otherwise cost more than simulating the layer.
class HifErrorCache {
 public:
  HifErrorReport get(const std::string& quant_key, size_t layer_index, const QuantizedLayer& layer,
                     const HifFormat& hif);

 private:
  std::mutex mu_;
  std::map<std::string, HifErrorReport> done_;
};

// What identifies a point's result: weights, quant config, arch, engine, batch, seed, blocks.
std::string point_key(const Sweep& s, size_t index, const std::string& quant_key, const std::string& engine);

// Throws Error(kIo/kInternal) when the engine fails (the point is retried by
// the next run); a layer the arch cannot hold is a recorded "infeasible" row.
// With an enabled `programs` cache the layers' programs come from it,
// re-targeted to the point's arch (the same bytes compile_layer writes).
nlohmann::json run_point(const Sweep& s, size_t index, const QuantEntry& quant, const EngineOptions& engine,
                         ActivationStore& acts, HifErrorCache& hif_errors, ProgramCache& programs,
                         const std::string& work_dir);

}  // namespace lutc::explore

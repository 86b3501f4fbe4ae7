#pragma once
// Compiled programs shared by the points of a run (docs/explore.md "Speed").
// A program depends on the arch only through its code key (arch_config.h
// `arch_code_key`: the kCode keys); the rest of the arch sits in its META
// section. So each (quantized layer, code key) is compiled once, kept as
// .lutp bytes, and every point re-targets them to its own arch
// (lutp_file.h `retarget_lutp_head`), which gives the bytes a fresh compile
// for that arch gives. Shared by the workers (threads) of one process; a
// layer another worker is compiling is waited for, never compiled twice.
//
// Memory: bounded by bytes, least recently used first out. An entry larger
// than the bound is handed out but not kept. A bound of 0 disables the cache.
#include <cstdint>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lutc/compiler/arch_config.h"
#include "lutc/model/error.h"
#include "lutc/model/layer.h"

namespace lutc::explore {

constexpr uint64_t kDefaultProgramCacheMiB = 2048;

class ProgramCache {
 public:
  // One compile: the program's bytes, or why the layer cannot be lowered for
  // the code key (the message names the arch it was compiled for).
  struct Entry {
    std::shared_ptr<const std::vector<uint8_t>> bytes;  // null when the compile failed
    ExitCode code = ExitCode::kOk;
    std::string error;
    std::string arch_name;  // the arch compiled for; only error messages name it
  };
  using EntryPtr = std::shared_ptr<const Entry>;

  struct Stats {
    uint64_t compiled = 0;    // layers compiled (cache misses)
    uint64_t reused = 0;      // layers served from the cache
    uint64_t evicted = 0;     // entries dropped to stay under the bound
    uint64_t peak_bytes = 0;  // most bytes held at once
  };

  explicit ProgramCache(uint64_t max_bytes) : max_bytes_(max_bytes) {}
  bool enabled() const { return max_bytes_ > 0; }
  uint64_t max_bytes() const { return max_bytes_; }

  // The compile of layer `layer_index` of the quantization `quant_key` for
  // arch's code key: from the cache, or compiled now by this caller
  // (compile_layer_for_code: the accumulator is the caller's to check, by
  // re-targeting). With wait = false, returns null instead of waiting when
  // another worker is compiling it. Failed compiles are entries too; one
  // made for an arch of another name is compiled again so its message names
  // this arch. Only non-Error exceptions propagate.
  EntryPtr get(const std::string& quant_key, size_t layer_index, const QuantizedLayer& layer, const ArchConfig& arch,
               bool wait);

  Stats stats() const;

 private:
  struct Slot {
    std::shared_future<EntryPtr> future;
    bool ready = false;
    uint64_t bytes = 0;
    std::list<std::string>::iterator lru;  // valid when ready
  };
  void publish(const std::string& key, const EntryPtr& e);  // under mu_

  const uint64_t max_bytes_;
  mutable std::mutex mu_;
  std::map<std::string, Slot> slots_;
  std::list<std::string> lru_;  // ready keys, most recently used first
  uint64_t bytes_ = 0;
  Stats stats_;
};

}  // namespace lutc::explore

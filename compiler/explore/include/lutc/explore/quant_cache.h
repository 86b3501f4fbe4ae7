#pragma once
// Quantized weights, cached on disk by (weights identity, tensors filter,
// quantization config, lutc version), so that every arch point of a sweep —
// and every later run, shard and Slurm task sharing the cache — reuses one
// `lutc quantize` result.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "lutc/explore/sweep.h"
#include "lutc/model/xfp_file.h"

namespace lutc::explore {

struct QuantEntry {
  std::string key;  // 16 hex digits
  std::string dir;  // cache/quant/<key>/
  bool ok = false;
  std::string error;      // when !ok: why lutc quantize failed
  nlohmann::json report;  // lutc quantize --report (docs/reports.md)
  std::shared_ptr<const XfpFile> file;
};

// What identifies the weights: the synth spec itself, or a file's name, size
// and content hash (size and mtime for files over 2 GiB).
std::string weights_identity(const std::string& weights);

class QuantCache {
 public:
  QuantCache(std::string dir, std::string lutc_exe);
  std::string key_of(const Sweep& s, const QuantConfig& q);
  // Thread-safe: concurrent callers with the same key wait for one quantization.
  // A process sharing the directory may race; both write identical bytes and
  // the first rename wins.
  std::shared_ptr<const QuantEntry> get(const Sweep& s, const QuantConfig& q);
  // Cache misses that ran lutc quantize in this process.
  unsigned quantized() const { return quantized_; }

 private:
  std::string key_locked(const Sweep& s, const QuantConfig& q);
  std::shared_ptr<const QuantEntry> load_or_make(const Sweep& s, const QuantConfig& q, const std::string& key);
  std::string dir_, exe_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<std::mutex>> key_locks_;
  std::map<std::string, std::shared_ptr<const QuantEntry>> entries_;
  std::map<std::string, std::string> identity_;  // weights -> identity, hashed once
  unsigned quantized_ = 0;
};

}  // namespace lutc::explore

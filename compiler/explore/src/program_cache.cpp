#include "lutc/explore/program_cache.h"

#include <cstdio>

#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/lutp_file.h"

namespace lutc::explore {
namespace {

ProgramCache::EntryPtr compile_entry(const QuantizedLayer& layer, const ArchConfig& arch) {
  auto e = std::make_shared<ProgramCache::Entry>();
  e->arch_name = arch.name;
  try {
    e->bytes = std::make_shared<const std::vector<uint8_t>>(serialize_lutp(compile_layer_for_code(layer, arch)));
  } catch (const Error& err) {
    e->code = err.code();
    e->error = err.what();
  }
  return e;
}

}  // namespace

ProgramCache::EntryPtr ProgramCache::get(const std::string& quant_key, size_t layer_index, const QuantizedLayer& layer,
                                         const ArchConfig& arch, bool wait) {
  char code[20];
  std::snprintf(code, sizeof code, "%016llx", (unsigned long long)arch_code_key(arch));
  const std::string key = quant_key + "/" + std::to_string(layer_index) + "/" + code;
  // A failed compile's message names the arch it was made for: another name compiles again (uncached).
  auto usable = [&](const EntryPtr& e) { return e->bytes || e->arch_name == arch.name; };
  std::promise<EntryPtr> promise;
  {
    std::unique_lock<std::mutex> g(mu_);
    auto it = slots_.find(key);
    if (it != slots_.end()) {
      Slot& s = it->second;
      if (!s.ready && !wait) return nullptr;
      std::shared_future<EntryPtr> f = s.future;
      if (s.ready) lru_.splice(lru_.begin(), lru_, s.lru);
      g.unlock();
      const EntryPtr& e = f.get();  // rethrows what the compiling worker could not turn into an entry
      if (usable(e)) {
        std::lock_guard<std::mutex> g2(mu_);
        ++stats_.reused;
        return e;
      }
      return compile_entry(layer, arch);
    }
    slots_[key].future = promise.get_future().share();
  }
  EntryPtr e;
  try {
    e = compile_entry(layer, arch);
  } catch (...) {
    std::lock_guard<std::mutex> g(mu_);
    slots_.erase(key);
    promise.set_exception(std::current_exception());
    throw;
  }
  std::lock_guard<std::mutex> g(mu_);
  ++stats_.compiled;
  promise.set_value(e);
  publish(key, e);
  return e;
}

void ProgramCache::publish(const std::string& key, const EntryPtr& e) {
  const uint64_t size = e->bytes ? e->bytes->size() : e->error.size();
  if (size > max_bytes_) {
    slots_.erase(key);  // handed out, not kept: workers waiting on it hold the future
    return;
  }
  Slot& s = slots_.at(key);
  s.ready = true;
  s.bytes = size;
  lru_.push_front(key);
  s.lru = lru_.begin();
  bytes_ += size;
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    auto victim = slots_.find(lru_.back());
    bytes_ -= victim->second.bytes;
    lru_.pop_back();
    slots_.erase(victim);
    ++stats_.evicted;
  }
  stats_.peak_bytes = std::max(stats_.peak_bytes, bytes_);
}

ProgramCache::Stats ProgramCache::stats() const {
  std::lock_guard<std::mutex> g(mu_);
  return stats_;
}

}  // namespace lutc::explore

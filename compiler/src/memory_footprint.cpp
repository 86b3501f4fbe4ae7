#include "lutc/compiler/memory_footprint.h"

#include <algorithm>

#include "lutc/compiler/verify_program.h"

namespace lutc {

void AddressMap::add(uint64_t lo, uint64_t len) {
  if (!len) return;
  uint64_t hi = lo + len;
  // Ranges that overlap or touch [lo, hi) merge with it.
  auto first = std::lower_bound(ranges_.begin(), ranges_.end(), lo,
                                [](const std::pair<uint64_t, uint64_t>& r, uint64_t v) { return r.second < v; });
  auto last = first;
  while (last != ranges_.end() && last->first <= hi) {
    lo = std::min(lo, last->first);
    hi = std::max(hi, last->second);
    ++last;
  }
  if (first != last && first->first <= lo && first->second >= hi && last - first == 1) return;  // already held
  first = ranges_.erase(first, last);
  ranges_.insert(first, {lo, hi});
  reindex();
}

void AddressMap::cover(const AddressMap& o) {
  for (const auto& [lo, hi] : o.ranges_) add(lo, hi - lo);
}

void AddressMap::reindex() {
  starts_.resize(ranges_.size());
  size_ = 0;
  for (size_t i = 0; i < ranges_.size(); ++i) {
    starts_[i] = size_;
    size_ += ranges_[i].second - ranges_[i].first;
  }
}

uint64_t AddressMap::find(uint64_t addr, uint64_t len) const {
  // The last range starting at or before addr.
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), addr,
                             [](uint64_t v, const std::pair<uint64_t, uint64_t>& r) { return v < r.first; });
  if (it == ranges_.begin()) return kUnmapped;
  --it;
  if (addr + len > it->second || addr >= it->second) return kUnmapped;
  return starts_[size_t(it - ranges_.begin())] + (addr - it->first);
}

void MemoryFootprint::cover(const MemoryFootprint& o) {
  weight_sram.cover(o.weight_sram);
  act_sram.cover(o.act_sram);
  lut_words.cover(o.lut_words);
  lut_slots.cover(o.lut_slots);
  lut_banks = std::max(lut_banks, o.lut_banks);
  lanes = std::max(lanes, o.lanes);
}

MemoryFootprint memory_footprint(const Program& p) { return verify_and_map_program(p, "program of " + p.meta.layer); }

}  // namespace lutc

#pragma once
// What of each engine memory a verified program touches. The functional
// executor and the SystemC model store only that, not the arch's capacity: a
// small layer on an arch at the documented maxima would otherwise allocate
// gigabytes, and a double-buffered program's second half lies at half the
// capacity. Memory never written reads as the zeros a full-size array holds.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "lutc/compiler/program.h"

namespace lutc {

// The address ranges of one memory that a program touches, packed one after
// another into a dense array. Every range added stays contiguous there, so a
// static access (one DMA, one tile's indices) is one pointer.
class AddressMap {
 public:
  static constexpr uint64_t kUnmapped = UINT64_MAX;

  // Adds [lo, lo + len); a zero length adds nothing.
  void add(uint64_t lo, uint64_t len);
  // Adds every range of `o` (a model running several programs).
  void cover(const AddressMap& o);
  // Addresses held; the dense array's length.
  uint64_t size() const { return size_; }
  // Index in the dense array of `addr`, when [addr, addr + len) lies within
  // one mapped range; kUnmapped otherwise.
  uint64_t find(uint64_t addr, uint64_t len = 1) const;
  // Copies what `data` (laid out by `from`, `copies` arrays of from.size())
  // holds into the layout of this map, which must cover `from`; zeros elsewhere.
  template <typename T>
  std::vector<T> relayout(const AddressMap& from, const std::vector<T>& data, uint64_t copies) const;
  const std::vector<std::pair<uint64_t, uint64_t>>& ranges() const { return ranges_; }

 private:
  std::vector<std::pair<uint64_t, uint64_t>> ranges_;  // [lo, hi), sorted, disjoint, not adjacent
  std::vector<uint64_t> starts_;                       // dense index of each range's lo
  uint64_t size_ = 0;
  void reindex();
};

template <typename T>
std::vector<T> AddressMap::relayout(const AddressMap& from, const std::vector<T>& data, uint64_t copies) const {
  std::vector<T> out(size_t(size_ * copies), T{});
  for (uint64_t c = 0; c < copies; ++c)
    for (size_t r = 0; r < from.ranges_.size(); ++r) {
      const auto [lo, hi] = from.ranges_[r];
      const uint64_t to = find(lo, hi - lo);
      std::copy_n(data.begin() + size_t(c * from.size_ + from.starts_[r]), size_t(hi - lo),
                  out.begin() + size_t(c * size_ + to));
    }
  return out;
}

// One memory (or `copies` alike: one per activation vector, one per LUT bank)
// holding only the addresses its map covers.
template <typename T>
class PackedMemory {
 public:
  explicit PackedMemory(uint64_t copies = 1) : copies_(copies) {}
  // Grows to hold `m` as well, keeping what is stored.
  void cover(const AddressMap& m) {
    AddressMap grown = map_;
    grown.cover(m);
    if (grown.size() == map_.size()) return;  // grown holds map_, so nothing new
    data_ = grown.relayout(map_, data_, copies_);
    map_ = std::move(grown);
  }
  // [addr, addr + len) of copy c when it lies within one mapped range (every
  // static access of a covered program does); nullptr otherwise.
  T* span(uint64_t c, uint64_t addr, uint64_t len) {
    const uint64_t i = map_.find(addr, len);
    return i == AddressMap::kUnmapped ? nullptr : data_.data() + c * map_.size() + i;
  }
  const T* span(uint64_t c, uint64_t addr, uint64_t len) const {
    return const_cast<PackedMemory*>(this)->span(c, addr, len);
  }
  // One element; zero where nothing is mapped (never written).
  T at(uint64_t c, uint64_t addr) const {
    const T* p = span(c, addr, 1);
    return p ? *p : T{};
  }
  uint64_t allocated_bytes() const { return data_.size() * sizeof(T); }
  const AddressMap& map() const { return map_; }

 private:
  uint64_t copies_;
  AddressMap map_;
  std::vector<T> data_;
};

struct MemoryFootprint {
  AddressMap weight_sram;  // bytes a DMA, DECODE_MAC or OUTLIER names
  AddressMap act_sram;     // the same, per activation vector
  AddressMap lut_words;    // words within a bank that LUT records write (any bank)
  AddressMap lut_slots;    // base registers that LUT records write
  uint32_t lut_banks = 0;  // one past the highest bank a LUT record writes
  uint32_t lanes = 0;      // one past the highest lane a DECODE_MAC or STORE uses

  void cover(const MemoryFootprint& o);
};

// Verifies `p` (verify_and_map_program: the verifier's per-opcode access
// checks are what records the ranges). Addresses that depend on data in SRAM
// (an OUTLIER record's row and column, a book id) are not in it: the models
// read those as zero when unmapped and drop outlier adds to unused lanes
// (no DECODE_MAC or STORE ever reads them).
MemoryFootprint memory_footprint(const Program& p);

}  // namespace lutc

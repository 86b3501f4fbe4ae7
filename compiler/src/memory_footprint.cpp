#include "lutc/compiler/memory_footprint.h"

#include <algorithm>

#include "lutc/compiler/tiling.h"
#include "lutc/model/bitpack.h"

namespace lutc {

namespace F = isa::fields;

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

MemoryFootprint memory_footprint(const Program& p) {
  MemoryFootprint f;
  const uint64_t act_bytes = p.arch.act_bits / 8;
  for (const LutRecord& r : p.lut_image) {
    f.lut_banks = std::max(f.lut_banks, r.bank + 1);
    f.lut_words.add(r.addr, r.words.size());
    f.lut_slots.add(uint64_t(r.addr / p.entries()) * p.arch.lut_banks + r.bank, 1);
  }
  uint32_t meta_format = 0;  // CFG META as the code sets it, for the metadata record size
  for (const isa::Instruction& in : p.code) {
    const auto& a = in.f;
    switch (in.op) {
      case isa::Op::CFG:
        if (a[F::CFG::reg] == uint32_t(isa::CfgReg::META)) meta_format = a[F::CFG::value];
        break;
      case isa::Op::DMA_IN:
        (a[F::DMA_IN::seg] == uint32_t(isa::Segment::ACT) ? f.act_sram : f.weight_sram)
            .add(a[F::DMA_IN::dst], a[F::DMA_IN::bytes]);
        break;
      case isa::Op::DECODE_MAC: {
        using D = F::DECODE_MAC;
        const uint32_t rows = a[D::rows], cols = a[D::cols], k0 = a[D::k0];
        f.weight_sram.add(a[D::idx], packed_bytes(uint64_t(rows) * cols, p.meta.bits));
        f.weight_sram.add(a[D::meta],
                          uint64_t(rows) * groups_in_chunk(k0, cols, p.meta.group) * meta_record_bytes(meta_format));
        f.act_sram.add(a[D::act], uint64_t(cols) * act_bytes);
        f.lanes = std::max(f.lanes, rows);
        break;
      }
      case isa::Op::OUTLIER:
        f.weight_sram.add(a[F::OUTLIER::addr], uint64_t(a[F::OUTLIER::count]) * kOutlierRecordBytes);
        break;
      case isa::Op::STORE: f.lanes = std::max(f.lanes, a[F::STORE::rows]); break;
      case isa::Op::LUT_LOAD:  // LUT words are counted from the image, not the code
      case isa::Op::SYNC:
      case isa::Op::END: break;
    }
  }
  return f;
}

}  // namespace lutc

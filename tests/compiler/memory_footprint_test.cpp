// AddressMap and PackedMemory against a plain model (a set of addresses, a
// map of stored values) under random ranges, and MemoryFootprint::cover as
// the union of two footprints. Compiled programs' footprints are in
// program_memory_test.
#include "lutc/compiler/memory_footprint.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>

#include "test_data.h"

namespace lutc {
namespace {

// Maximal runs of consecutive addresses of `s`, as [lo, hi).
std::vector<std::pair<uint64_t, uint64_t>> runs_of(const std::set<uint64_t>& s) {
  std::vector<std::pair<uint64_t, uint64_t>> r;
  for (uint64_t a : s) {
    if (!r.empty() && r.back().second == a)
      ++r.back().second;
    else
      r.push_back({a, a + 1});
  }
  return r;
}

TEST(AddressMap, RandomRangesMatchASetOfAddresses) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 100; ++trial) {
    AddressMap m;
    std::set<uint64_t> held;
    const uint64_t base = rng() % 2 ? 0 : (uint64_t(1) << 40);  // far addresses, as a second buffer lies
    for (int i = 0; i < 30; ++i) {
      const uint64_t lo = base + rng() % 300, len = rng() % 4 ? rng() % 20 : 0;
      m.add(lo, len);
      for (uint64_t a = lo; a < lo + len; ++a) held.insert(a);
    }
    ASSERT_EQ(m.size(), held.size());
    ASSERT_EQ(m.ranges(), runs_of(held)) << "ranges are sorted, disjoint and not adjacent";
    // Dense indices: each held address its rank among the held ones.
    uint64_t rank = 0;
    for (uint64_t a : held) ASSERT_EQ(m.find(a), rank++) << a;
    for (int q = 0; q < 200; ++q) {
      const uint64_t a = base + rng() % 340, len = 1 + rng() % 12;
      bool inside = true;
      for (uint64_t x = a; x < a + len; ++x) inside = inside && held.count(x);
      const uint64_t got = m.find(a, len);
      if (inside)
        ASSERT_EQ(got, m.find(a)) << a << "+" << len;
      else
        ASSERT_EQ(got, AddressMap::kUnmapped) << a << "+" << len;
    }
  }
}

TEST(AddressMap, EmptyMapFindsNothing) {
  AddressMap m;
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.find(0), AddressMap::kUnmapped);
  m.add(5, 0);
  EXPECT_TRUE(m.ranges().empty());
  m.add(UINT64_MAX - 4, 4);  // the top of the address space
  EXPECT_EQ(m.find(UINT64_MAX - 1), 3u);
  EXPECT_EQ(m.find(UINT64_MAX - 2, 2), 2u);
}

TEST(PackedMemory, GrowingKeepsEveryStoredValueAtItsAddress) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const uint64_t copies = 3;
  PackedMemory<uint32_t> mem(copies);
  std::map<std::pair<uint64_t, uint64_t>, uint32_t> model;  // (copy, addr) -> value
  AddressMap all;
  for (int step = 0; step < 40; ++step) {
    AddressMap grow;
    const uint64_t lo = rng() % 500, len = 1 + rng() % 30;
    grow.add(lo, len);
    mem.cover(grow);
    all.cover(grow);
    ASSERT_EQ(mem.map().ranges(), all.ranges());
    ASSERT_EQ(mem.allocated_bytes(), copies * all.size() * sizeof(uint32_t));
    // Write a few values inside the new range through span().
    for (int w = 0; w < 5; ++w) {
      const uint64_t c = rng() % copies, a = lo + rng() % len;
      const uint32_t v = uint32_t(rng());
      uint32_t* p = mem.span(c, a, 1);
      ASSERT_NE(p, nullptr);
      *p = v;
      model[{c, a}] = v;
    }
    for (uint64_t c = 0; c < copies; ++c)
      for (uint64_t a = 0; a < 540; ++a) {
        const auto it = model.find({c, a});
        ASSERT_EQ(mem.at(c, a), it == model.end() ? 0u : it->second) << "copy " << c << " addr " << a;
      }
  }
  // A span that leaves its mapped range is refused rather than running on.
  const auto [lo, hi] = mem.map().ranges().back();
  EXPECT_EQ(mem.span(0, hi - 1, 2), nullptr);
  EXPECT_NE(mem.span(0, lo, hi - lo), nullptr);
}

TEST(MemoryFootprint, CoverIsTheUnionAndTheMaxima) {
  MemoryFootprint a, b;
  a.weight_sram.add(0, 10);
  b.weight_sram.add(5, 10);
  b.act_sram.add(100, 4);
  a.lut_words.add(0, 16);
  b.lut_slots.add(3, 1);
  a.lut_banks = 2;
  b.lut_banks = 4;
  a.lanes = 8;
  b.lanes = 3;
  a.cover(b);
  EXPECT_EQ(a.weight_sram.ranges(), (std::vector<std::pair<uint64_t, uint64_t>>{{0, 15}}));
  EXPECT_EQ(a.act_sram.size(), 4u);
  EXPECT_EQ(a.lut_words.size(), 16u);
  EXPECT_EQ(a.lut_slots.find(3), 0u);
  EXPECT_EQ(a.lut_banks, 4u);
  EXPECT_EQ(a.lanes, 8u);
}

}  // namespace
}  // namespace lutc

#include "lutc/model/bitpack.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "test_data.h"

namespace lutc {
namespace {

// Bit j of the stream is bit j%8 of byte j/8, read one bit at a time.
unsigned reference_code(const std::vector<uint8_t>& packed, uint64_t i, unsigned bits) {
  unsigned v = 0;
  for (unsigned b = 0; b < bits; ++b) {
    const uint64_t j = i * bits + b;
    v |= unsigned((packed[j / 8] >> (j % 8)) & 1u) << b;
  }
  return v;
}

TEST(Bitpack, EveryWidthRoundTripsAgainstBitByBitReference) {
  std::mt19937_64 rng(testing::fresh_seed());
  for (unsigned bits = 1; bits <= 8; ++bits) {
    for (int trial = 0; trial < 20; ++trial) {
      const uint64_t count = rng() % 1000;
      std::vector<uint8_t> codes(count);
      for (auto& c : codes) c = uint8_t(rng());  // high bits must be masked off
      std::vector<uint8_t> packed(packed_bytes(count, bits) + 1, 0xAA);
      const uint8_t guard = packed.back();
      pack_indices(codes.data(), count, bits, packed.data());
      ASSERT_EQ(packed.back(), guard) << "wrote past packed_bytes()";
      packed.pop_back();
      ASSERT_EQ(packed.size(), (count * bits + 7) / 8);
      const unsigned mask = (1u << bits) - 1;
      for (uint64_t i = 0; i < count; ++i) {
        ASSERT_EQ(reference_code(packed, i, bits), codes[i] & mask) << "bits " << bits << " i " << i;
        ASSERT_EQ(get_index(packed.data(), i, bits), codes[i] & mask);
      }
      // Padding bits after the last code are zero.
      for (uint64_t j = count * bits; j < packed.size() * 8; ++j) ASSERT_EQ((packed[j / 8] >> (j % 8)) & 1, 0);
      if (count == 0) continue;
      const uint64_t first = rng() % count;
      const uint64_t n = rng() % (count - first + 1);
      std::vector<uint8_t> out(n + 1, 0x55);
      unpack_indices(packed.data(), first, n, bits, out.data());
      for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(out[i], codes[first + i] & mask);
      ASSERT_EQ(out[n], 0x55) << "unpack wrote past count";
    }
  }
}

TEST(Bitpack, KnownLayout) {
  const uint8_t codes[] = {1, 2, 3, 0};
  uint8_t out[1];
  pack_indices(codes, 4, 2, out);
  EXPECT_EQ(out[0], 0x39);  // 01 | 10<<2 | 11<<4 | 00<<6
  const uint8_t c3[] = {5, 7, 1};
  uint8_t o3[2];
  pack_indices(c3, 3, 3, o3);
  EXPECT_EQ(o3[0], uint8_t(5 | 7 << 3 | (1 & 3) << 6));
  EXPECT_EQ(o3[1], 0);
}

}  // namespace
}  // namespace lutc

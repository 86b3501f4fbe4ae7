// Chunk groups against a column-by-column count, on random chunks, and at
// the end of the 32-bit column range.
#include "lutc/spec/chunk_groups.h"

#include <random>

#include <gtest/gtest.h>

namespace lutc {
namespace {

TEST(ChunkGroups, MatchAColumnByColumnCount) {
  std::mt19937 rng(std::random_device{}());
  for (int i = 0; i < 3000; ++i) {
    const uint32_t group = 1 + rng() % 200, k0 = rng() % 1000, cols = rng() % 600;
    const uint64_t n = groups_in_chunk(k0, cols, group);
    // Walk the columns: each group of the chunk must cover exactly the
    // columns of one layer group, in order, with no gap.
    uint32_t next = 0;
    for (uint32_t g = 0; g < n; ++g) {
      const ColumnSpan s = group_columns(k0, cols, group, g);
      ASSERT_EQ(s.begin, next);
      ASSERT_LT(s.begin, s.end);
      for (uint32_t j = s.begin; j < s.end; ++j) ASSERT_EQ((k0 + j) / group, k0 / group + g);
      next = s.end;
    }
    ASSERT_EQ(next, cols) << "k0 " << k0 << " cols " << cols << " group " << group;
  }
}

TEST(ChunkGroups, EmptyChunkHasNoGroupsAndTheTopOfTheRangeDoesNotWrap) {
  EXPECT_EQ(groups_in_chunk(0, 0, 128), 0u);
  EXPECT_EQ(groups_in_chunk(4096, 0, 128), 0u);
  // k0 + cols = 2^32 exactly.
  EXPECT_EQ(groups_in_chunk(0xFFFFFF00u, 0x100u, 128), 2u);
  const ColumnSpan s = group_columns(0xFFFFFF00u, 0x100u, 128, 1);
  EXPECT_EQ(s.begin, 128u);
  EXPECT_EQ(s.end, 256u);
}

}  // namespace
}  // namespace lutc

// hf_layout's byte-row permutation (for stored dtypes and biases) against the
// index-by-index oracle, its agreement with the float version, and the
// shapes it refuses. The float permutation's definition and round trip are
// in hf_folder_test.
#include "lutc/model/hf_layout.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "lutc/model/error.h"
#include "rope_oracle.h"
#include "test_data.h"

namespace lutc {
namespace {

TEST(HfLayoutBytes, MatchesTheOracleForAnyRowWidth) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 40; ++trial) {
    const uint32_t hs = 2 * (1 + uint32_t(rng() % 12)), heads = 1 + uint32_t(rng() % 5);
    const uint64_t rows = uint64_t(hs) * heads, row_bytes = 1 + rng() % 9;  // odd widths: bf16 rows, 1-byte rows
    std::vector<uint8_t> in(rows * row_bytes), out(in.size(), 0xAA);
    for (uint8_t& b : in) b = uint8_t(rng());
    rope_row_bytes_interleaved_to_half(in.data(), out.data(), rows, row_bytes, hs);
    ASSERT_EQ(out, testing::to_rotate_half(in, rows, hs)) << "hs " << hs << " heads " << heads;
  }
}

TEST(HfLayoutBytes, AgreesWithTheFloatPermutation) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  const uint32_t hs = 16;
  const uint64_t rows = 4 * hs, cols = 7;
  std::vector<float> w(rows * cols), want(w.size()), got(w.size()), back(w.size());
  for (float& v : w) v = g(rng);
  rope_rows_interleaved_to_half(w.data(), want.data(), rows, cols, hs);
  rope_row_bytes_interleaved_to_half(reinterpret_cast<const uint8_t*>(w.data()), reinterpret_cast<uint8_t*>(got.data()),
                                     rows, cols * sizeof(float), hs);
  EXPECT_EQ(std::memcmp(got.data(), want.data(), w.size() * sizeof(float)), 0);
  rope_rows_half_to_interleaved(got.data(), back.data(), rows, cols, hs);
  EXPECT_EQ(back, w);
}

TEST(HfLayoutBytes, ABiasIsOneElementPerRow) {
  // Two heads of 4: row r holds r, so the output lists where each row went.
  const std::vector<uint8_t> bias = {0, 1, 2, 3, 4, 5, 6, 7};
  std::vector<uint8_t> out(8);
  rope_row_bytes_interleaved_to_half(bias.data(), out.data(), 8, 1, 4);
  EXPECT_EQ(out, (std::vector<uint8_t>{0, 2, 1, 3, 4, 6, 5, 7}));
  // A head of 2 is already in both layouts.
  rope_row_bytes_interleaved_to_half(bias.data(), out.data(), 8, 1, 2);
  EXPECT_EQ(out, bias);
}

TEST(HfLayout, RefusesRowsThatAreNotWholeEvenHeads) {
  std::vector<uint8_t> b(64);
  std::vector<float> f(64), o(64);
  struct Case {
    uint64_t rows;
    uint32_t hs;
  };
  for (const Case c : {Case{8, 0}, Case{9, 3}, Case{12, 8}, Case{6, 4}, Case{7, 1}}) {
    SCOPED_TRACE(std::to_string(c.rows) + " rows, head " + std::to_string(c.hs));
    for (int which = 0; which < 3; ++which) {
      try {
        if (which == 0) rope_row_bytes_interleaved_to_half(b.data(), b.data() + 32, c.rows, 1, c.hs);
        if (which == 1) rope_rows_interleaved_to_half(f.data(), o.data(), c.rows, 1, c.hs);
        if (which == 2) rope_rows_half_to_interleaved(f.data(), o.data(), c.rows, 1, c.hs);
        ADD_FAILURE() << "accepted, function " << which;
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), ExitCode::kBadInput);
        EXPECT_NE(std::string(e.what()).find(std::to_string(c.rows) + " rows"), std::string::npos) << e.what();
      }
    }
  }
  // Zero rows are zero whole heads: nothing to move, nothing refused.
  EXPECT_NO_THROW(rope_row_bytes_interleaved_to_half(b.data(), b.data() + 32, 0, 1, 4));
}

}  // namespace
}  // namespace lutc

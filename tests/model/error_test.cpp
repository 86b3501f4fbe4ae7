// located, fail_input and check_range: the message shapes error.h promises,
// names with control bytes escaped, and the range check's edges.
#include "lutc/model/error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "test_data.h"

namespace lutc {
namespace {

TEST(Located, LeavesOutTheEmptyParts) {
  EXPECT_EQ(located("x.xfp", "blk.0.q", 1234, "bad"), "file 'x.xfp', layer 'blk.0.q', offset 1234: bad");
  EXPECT_EQ(located("x.xfp", "", -1, "bad"), "file 'x.xfp': bad");
  EXPECT_EQ(located("", "blk.0.q", -1, "bad"), "layer 'blk.0.q': bad");
  EXPECT_EQ(located("", "", 0, "bad"), "offset 0: bad");
  EXPECT_EQ(located("x.xfp", "", 7, "bad"), "file 'x.xfp', offset 7: bad");
  EXPECT_EQ(located("", "", -1, "bad"), "bad");
}

TEST(Located, EscapesControlBytesInNames) {
  const std::string name = std::string("a\0b\n\x7f", 5) + "\xC3\xA9";
  // NUL, newline and DEL become \xNN; bytes >= 0x80 (UTF-8) stay as they are.
  EXPECT_EQ(located(name, name, -1, "w"), "file 'a\\x00b\\x0a\\x7f\xC3\xA9', layer 'a\\x00b\\x0a\\x7f\xC3\xA9': w");
  // The message itself is not touched.
  EXPECT_EQ(located("f", "", -1, "line\n"), "file 'f': line\n");
}

TEST(FailInput, ThrowsBadInputWithTheLocatedMessage) {
  try {
    fail_input("w.safetensors", "model.norm", 99, "truncated");
    FAIL() << "returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_EQ(std::string(e.what()), "file 'w.safetensors', layer 'model.norm', offset 99: truncated");
  }
}

// The message of check_range's Error, or "" when it accepts v.
std::string range_message(double v, double lo, double hi) {
  try {
    check_range("group", v, lo, hi);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kUsage);
    return e.what();
  }
  return "";
}

TEST(CheckRange, BoundsAreInclusive) {
  EXPECT_EQ(range_message(16, 16, 4096), "");
  EXPECT_EQ(range_message(4096, 16, 4096), "");
  EXPECT_EQ(range_message(0.98, 0, 1), "");
  EXPECT_EQ(range_message(15, 16, 4096), "--group 15 is out of range [16, 4096]");
  EXPECT_EQ(range_message(std::nextafter(4096.0, 1e9), 16, 4096), "--group 4096 is out of range [16, 4096]");
  EXPECT_EQ(range_message(1.5, 0, 1), "--group 1.5 is out of range [0, 1]");
  EXPECT_EQ(range_message(1e12, 0, 1), "--group 1000000000000 is out of range [0, 1]");
  EXPECT_EQ(range_message(1e20, 0, 1), "--group 1e+20 is out of range [0, 1]");
}

TEST(CheckRange, NotFiniteIsRefusedEvenWithInfiniteBounds) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_NE(range_message(std::nan(""), -inf, inf), "");
  EXPECT_NE(range_message(inf, -inf, inf), "");
  EXPECT_NE(range_message(-inf, -inf, inf), "");
  EXPECT_EQ(range_message(1e300, -inf, inf), "");
}

TEST(CheckRange, RandomValuesAgreeWithTheInterval) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-10, 10);
  for (int i = 0; i < 2000; ++i) {
    double lo = u(rng), hi = u(rng);
    if (lo > hi) std::swap(lo, hi);
    const double v = u(rng);
    ASSERT_EQ(range_message(v, lo, hi).empty(), v >= lo && v <= hi) << v << " in [" << lo << ", " << hi << "]";
  }
}

}  // namespace
}  // namespace lutc

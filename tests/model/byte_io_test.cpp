// ByteWriter / ByteReader (lutc/model/byte_io.h), the little-endian I/O the
// .xfp and .lutp containers and the GGUF reader share: random fields round trip byte for byte in
// little-endian order, and every overrun is an error naming the file, the
// record and the absolute offset.
#include "lutc/model/byte_io.h"

#include <gtest/gtest.h>

#include <random>

#include "test_data.h"

namespace lutc {
namespace {

TEST(ByteIo, RandomFieldsRoundTripLittleEndian) {
  std::mt19937_64 rng(testing::fresh_seed());
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<uint8_t> buf = {0xAA};  // a byte before the fields: offsets are absolute
    ByteWriter w(buf);
    const uint8_t a = uint8_t(rng());
    const uint16_t b = uint16_t(rng());
    const uint32_t c = uint32_t(rng());
    const uint64_t d = rng();
    const int32_t e = int32_t(rng());
    w.u8(a);
    w.u16(b);
    w.u32(c);
    w.u64(d);
    w.i32(e);
    const size_t at = w.size();
    w.u32(0);
    const uint32_t patched = uint32_t(rng());
    w.patch(at, patched, 4);
    ASSERT_EQ(buf.size(), 1u + 1 + 2 + 4 + 8 + 4 + 4);
    // Little-endian: the low byte of each field first.
    EXPECT_EQ(buf[2], uint8_t(b));
    EXPECT_EQ(buf[4], uint8_t(c));
    EXPECT_EQ(buf[8], uint8_t(d));
    EXPECT_EQ(buf[15], uint8_t(d >> 56));
    const std::string file = "t.bin";
    ByteReader r(buf.data(), 1, buf.size(), file, "rec");
    EXPECT_EQ(r.u8("a"), a);
    EXPECT_EQ(r.u16("b"), b);
    EXPECT_EQ(r.u32("c"), c);
    EXPECT_EQ(r.u64("d"), d);
    EXPECT_EQ(int32_t(r.u32("e")), e);
    EXPECT_EQ(r.u32("patched"), patched);
    EXPECT_EQ(r.remaining(), 0u);
    EXPECT_NO_THROW(r.done("record"));
  }
}

TEST(ByteIo, OverrunsAndTrailingBytesNameFileRecordAndOffset) {
  std::vector<uint8_t> buf(10, 0);
  const std::string file = "x.lutp";
  ByteReader r(buf.data(), 4, 10, file, "blk.0.q");
  r.u32("head");
  try {
    r.u32("count");
    FAIL() << "read past the end";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    const std::string m = e.what();
    for (const char* part : {"x.lutp", "blk.0.q", "8", "count needs 4 bytes, only 2 remain"})
      EXPECT_NE(m.find(part), std::string::npos) << part << " in " << m;
  }
  try {
    r.done("META");
    FAIL() << "2 bytes were left";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("META: 2 unexpected trailing bytes"), std::string::npos) << e.what();
  }
  // A corrupt length is refused before anything is taken: no allocation follows.
  EXPECT_THROW(r.take(uint64_t(1) << 62, "payload"), Error);
  EXPECT_EQ(r.pos(), 8u);
}

// GGUF strings: a u64 byte length, then the bytes; a length over the caller's
// limit or past the end is refused at the length's offset.
TEST(ByteIo, U64LengthStringsHonourTheirLimit) {
  std::mt19937_64 rng(testing::fresh_seed());
  std::string text(size_t(rng() % 40), ' ');
  for (char& c : text) c = char('a' + rng() % 26);
  std::vector<uint8_t> buf;
  ByteWriter w(buf);
  w.u64(text.size());
  w.bytes(text.data(), text.size());
  w.u64(uint64_t(1) << 40);  // a hostile length
  const std::string file = "m.gguf";
  ByteReader r(buf.data(), 0, buf.size(), file, "");
  EXPECT_EQ(r.str_u64("key", 64), text);
  const uint64_t at = r.pos();
  try {
    r.str_u64("value", 1000);
    FAIL() << "a 2^40-byte string was accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    for (const std::string& part :
         {std::string("value length 1099511627776 exceeds the limit of 1000"), std::to_string(at), file})
      EXPECT_NE(m.find(part), std::string::npos) << part << " in " << m;
  }
  ByteReader short_limit(buf.data(), 0, buf.size(), file, "");
  if (!text.empty()) {
    EXPECT_THROW(short_limit.str_u64("key", text.size() - 1), Error);
  }
}

TEST(ByteIo, CountsThatCannotFitAreRefusedBeforeAnyLoop) {
  std::vector<uint8_t> buf(100, 0);
  const std::string file = "m.gguf";
  ByteReader r(buf.data(), 20, 100, file, "t");
  EXPECT_NO_THROW(r.check_count(12, 10, 8, "tensor count"));  // 80 bytes fit in 80
  try {
    r.check_count(12, 11, 8, "tensor count");
    FAIL() << "11 x 8 bytes do not fit in 80";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("tensor count 11 needs at least 8 bytes each but only 80 bytes remain"), std::string::npos) << m;
    EXPECT_NE(m.find("12"), std::string::npos) << m;
  }
  EXPECT_THROW(r.check_count(0, UINT64_MAX, 1, "n"), Error);
}

}  // namespace
}  // namespace lutc

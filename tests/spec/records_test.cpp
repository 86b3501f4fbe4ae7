// Metadata and outlier records, HIF words and activation words: what one
// implementation writes, the others read back, on fresh random values, and
// at the byte positions docs/isa.md gives.
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "lutc/spec/activation_word.h"
#include "lutc/spec/hif_word.h"
#include "lutc/spec/meta_record.h"
#include "lutc/spec/outlier_record.h"

namespace lutc {
namespace {

TEST(MetaRecord, RoundTripsEveryFormatAtItsDocumentedBytes) {
  std::mt19937 rng(std::random_device{}());
  EXPECT_EQ(meta_record_bytes(kMetaNone), 0u);
  EXPECT_EQ(meta_record_bytes(kMetaId), 1u);
  EXPECT_EQ(meta_record_bytes(kMetaScale), 2u);
  EXPECT_EQ(meta_record_bytes(kMetaIdScale), 4u);
  EXPECT_EQ(meta_record_bytes(4), 0u);
  for (int i = 0; i < 1000; ++i) {
    const MetaRecord m{uint8_t(rng()), uint16_t(rng())};
    for (uint32_t f : {kMetaId, kMetaScale, kMetaIdScale}) {
      std::vector<uint8_t> buf(meta_record_bytes(f) + 1, 0xA5);
      write_meta_record(f, m, buf.data());
      EXPECT_EQ(buf.back(), 0xA5) << "format " << f << " wrote past its record";
      const MetaRecord r = read_meta_record(f, buf.data());
      EXPECT_EQ(r.id, meta_has_id(f) ? m.id : 0) << f;
      EXPECT_EQ(r.scale, meta_has_scale(f) ? m.scale : 0) << f;
    }
    uint8_t b[4];
    write_meta_record(kMetaIdScale, m, b);
    EXPECT_EQ(b[0], m.id);
    EXPECT_EQ(b[1], 0);
    EXPECT_EQ(b[2] | b[3] << 8, m.scale);
  }
}

TEST(OutlierRecord, RoundTripsLittleEndian) {
  std::mt19937_64 rng(std::random_device{}());
  for (int i = 0; i < 1000; ++i) {
    const OutlierRecord o{uint32_t(rng()), uint32_t(rng()), int64_t(rng())};
    uint8_t b[kOutlierRecordBytes];
    write_outlier_record(o, b);
    const OutlierRecord r = read_outlier_record(b);
    EXPECT_EQ(r.row, o.row);
    EXPECT_EQ(r.col, o.col);
    EXPECT_EQ(r.delta, o.delta);
    EXPECT_EQ(b[0], uint8_t(o.row));
    EXPECT_EQ(b[4], uint8_t(o.col));
    EXPECT_EQ(b[15], uint8_t(uint64_t(o.delta) >> 56));
  }
}

TEST(HifWord, PackUnpackRoundTripsAtEveryWidth) {
  std::mt19937 rng(std::random_device{}());
  for (unsigned mb = 1; mb <= 13; ++mb)
    for (unsigned sb = 1; sb <= 6; ++sb) {
      const HifFormat f{mb, sb};
      for (int i = 0; i < 200; ++i) {
        const HifFields h{bool(rng() & 1), unsigned(rng() % (1u << sb)), uint32_t(rng() % (1u << mb))};
        const uint32_t w = hif_pack(f, h);
        ASSERT_LT(w, 1u << f.word_bits());
        const HifFields u = hif_unpack(f, w);
        ASSERT_EQ(u.negative, h.negative);
        ASSERT_EQ(u.shift, h.shift);
        ASSERT_EQ(u.mant, h.mant);
      }
    }
}

TEST(ActivationWord, EveryValueRoundTripsThroughItsBytes) {
  for (uint32_t bytes : {1u, 2u}) {
    const int32_t lo = bytes == 1 ? -128 : -32768, hi = bytes == 1 ? 127 : 32767;
    for (int32_t a = lo; a <= hi; ++a) {
      uint8_t b[2] = {0, 0};
      for (uint32_t i = 0; i < bytes; ++i) b[i] = byte_of_activation(a, i);
      ASSERT_EQ(activation_at(b, bytes), a) << bytes;
    }
  }
}

}  // namespace
}  // namespace lutc

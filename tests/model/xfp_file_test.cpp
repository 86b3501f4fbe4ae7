#include "lutc/model/xfp_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "bad_input_checks.h"
#include "file_bytes.h"
#include "formats/xfp_codec.h"
#include "layer_samples.h"
#include "lutc/model/error.h"
#include "test_data.h"

namespace lutc {
namespace {

namespace fs = std::filesystem;
// The byte-level tests below walk the version 1 layout, which the reader must
// keep accepting; xfp_stream_test.cpp covers version 2 the same way.
using testing::random_layer;
using testing::same_layer;
using xfp_codec::write_xfp_v1;

using testing::get_le;
using testing::put_le;
using testing::slurp;
using testing::spit;

// The version 1 layout of docs/xfp-format.md, walked independently of the reader.
struct SectionAt {
  std::string tag;
  size_t tag_at, payload_at, len, crc_at;
};
struct RecordAt {
  size_t start, header_at, header_len, header_crc_at;
  std::vector<SectionAt> sections;
};
struct LayoutAt {
  size_t header_crc_at, layer_count_at;
  std::vector<RecordAt> records;
};

LayoutAt walk(const std::vector<uint8_t>& b) {
  LayoutAt L;
  size_t p = 12;
  const uint32_t meta = uint32_t(get_le(b, p, 4));
  p += 4;
  for (uint32_t i = 0; i < 2 * meta; ++i) p += 4 + get_le(b, p, 4);
  L.layer_count_at = p;
  const uint32_t layers = uint32_t(get_le(b, p, 4));
  L.header_crc_at = p + 4;
  p += 8;
  for (uint32_t i = 0; i < layers; ++i) {
    RecordAt r;
    r.start = p;
    const uint64_t len = get_le(b, p, 8);
    r.header_len = get_le(b, p + 8, 4);
    r.header_at = p + 12;
    r.header_crc_at = r.header_at + r.header_len;
    size_t q = r.header_crc_at + 4;
    const uint32_t sections = uint32_t(get_le(b, q, 4));
    q += 4;
    for (uint32_t s = 0; s < sections; ++s) {
      SectionAt sec;
      sec.tag.assign(reinterpret_cast<const char*>(&b[q]), 4);
      sec.tag_at = q;
      sec.len = get_le(b, q + 4, 8);
      sec.payload_at = q + 12;
      sec.crc_at = sec.payload_at + sec.len;
      q = sec.crc_at + 4;
      r.sections.push_back(sec);
    }
    EXPECT_EQ(q, p + 8 + len);
    L.records.push_back(r);
    p += 8 + len;
  }
  EXPECT_EQ(p, b.size());
  return L;
}

// Reads `path` and returns the error message; fails the test if it did not
// throw Error(kBadInput) naming the file and an offset.
std::string read_error(const std::string& path) {
  return testing::bad_input(path, [&] { read_xfp(path); });
}

XfpFile sample_file(std::mt19937_64& rng, bool small) {
  XfpFile f;
  f.metadata["source"] = "unit test";
  f.metadata["tool"] = "lutc";
  testing::SampleOptions o;
  if (small) {
    o.rows = 2;
    o.cols = 9;
    o.outlier_fraction = 0.3;
  }
  for (Scheme s : testing::kDecodableSchemes) {
    QuantizedLayer l = random_layer(s, rng, o);
    l.name = std::string("layer.") + scheme_name(s);
    f.layers.push_back(l);
  }
  // Every section kind must appear at least once, with outliers in the first layer.
  if (small && f.layers[0].outliers.col.empty()) {
    f.layers[0].outliers.row_ptr = {0, 1, 1};
    f.layers[0].outliers.col = {3};
    f.layers[0].outliers.val = {0x3c00};
  }
  return f;
}

TEST(XfpFile, Crc32KnownAnswerAndChaining) {
  EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);
  EXPECT_EQ(crc32("", 0), 0u);
  EXPECT_EQ(crc32("56789", 5, crc32("1234", 4)), 0xCBF43926u);
}

// The table-driven CRC against the bit-at-a-time definition, on random bytes
// of every length around the 8-byte stride and at odd split points.
TEST(XfpFile, Crc32MatchesTheBitwiseDefinition) {
  std::mt19937_64 rng(testing::fresh_seed());
  auto bitwise = [](const uint8_t* p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; ++i) {
      c ^= p[i];
      for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
  };
  for (size_t n = 0; n < 80; ++n) {
    std::vector<uint8_t> b(n);
    for (auto& x : b) x = uint8_t(rng());
    ASSERT_EQ(crc32(b.data(), n), bitwise(b.data(), n)) << n;
    const size_t cut = n ? rng() % n : 0;
    ASSERT_EQ(crc32(b.data() + cut, n - cut, crc32(b.data(), cut)), bitwise(b.data(), n)) << n;
  }
}

TEST(XfpFile, RoundTripEveryScheme) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string path = testing::temp_dir() + "/round.xfp";
  for (int trial = 0; trial < 20; ++trial) {
    XfpFile f;
    f.metadata["trial"] = std::to_string(trial);
    for (Scheme s : testing::kDecodableSchemes) {
      testing::SampleOptions o;
      o.outlier_fraction = (trial % 3 == 0) ? 0.0 : 0.05;
      QuantizedLayer l = random_layer(s, rng, o);
      l.name += scheme_name(s);
      f.layers.push_back(l);
    }
    write_xfp(path, f);
    const XfpFile g = read_xfp(path);
    EXPECT_EQ(g.metadata, f.metadata);
    ASSERT_EQ(g.layers.size(), f.layers.size());
    for (size_t i = 0; i < f.layers.size(); ++i) EXPECT_TRUE(same_layer(g.layers[i], f.layers[i])) << f.layers[i].name;
  }
}

TEST(XfpFile, WideLayerStoresOutlierColumnsAsU32) {
  std::mt19937_64 rng(testing::fresh_seed());
  testing::SampleOptions o;
  o.rows = 2;
  o.cols = 70001;
  o.bits = 2;
  o.outlier_fraction = 0.001;
  QuantizedLayer l = random_layer(Scheme::kXfpV2, rng, o);
  l.outliers.row_ptr = {0, 2, 3};
  l.outliers.col = {5, 70000, 65536};
  l.outliers.val = {0x3c00, 0xbc00, 0x0001};
  const std::string path = testing::temp_dir() + "/wide.xfp";
  write_xfp(path, XfpFile{{}, {l}, {}, {}});
  EXPECT_TRUE(same_layer(read_xfp(path).layers.at(0), l));
  write_xfp_v1(path, XfpFile{{}, {l}, {}, {}});
  EXPECT_TRUE(same_layer(read_xfp(path).layers.at(0), l));
  // 3 entries x (4 col + 2 val) + 3 row pointers x 4.
  const auto bytes = slurp(path);
  const LayoutAt L = walk(bytes);
  for (const auto& s : L.records[0].sections) {
    if (s.tag == "OUTL") {
      EXPECT_EQ(s.len, 3u * 6 + 3 * 4);
    }
  }
}

TEST(XfpFile, StoredBitsIsTheSerializedSize) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string path = testing::temp_dir() + "/one.xfp";
  for (int trial = 0; trial < 30; ++trial) {
    for (Scheme s : testing::kDecodableSchemes) {
      testing::SampleOptions o;
      o.outlier_fraction = trial % 2 ? 0.0 : 0.1;
      const QuantizedLayer l = random_layer(s, rng, o);
      ASSERT_EQ(stored_bits(l), 8 * serialize_layer(l).size());
      if (trial >= 4) continue;  // files are slow to commit (fsync); sizes are checked above
      const XfpFile f{{{"k", "v"}}, {l}, {}, {}};
      write_xfp(path, f);
      const uint64_t size = fs::file_size(path);
      EXPECT_EQ(stored_bits(l), 8 * (size - file_header_bytes(f)));
      EXPECT_DOUBLE_EQ(effective_bpw(l), double(stored_bits(l)) / double(l.elements()));
      // The record in the file is byte for byte serialize_layer(), right after the header.
      const auto bytes = slurp(path);
      const auto rec = serialize_layer(l);
      const size_t header = xfp_codec::file_header_v2(f.metadata).size();
      EXPECT_TRUE(std::equal(rec.begin(), rec.end(), bytes.begin() + header));
      EXPECT_EQ(XfpReader(path).records().at(0).stored_bits(), stored_bits(l));
    }
  }
}

TEST(XfpFile, TruncatedAtEveryOffset) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string dir = testing::temp_dir();
  const std::string good = dir + "/good.xfp", bad = dir + "/cut.xfp";
  write_xfp_v1(good, sample_file(rng, true));
  const auto bytes = slurp(good);
  ASSERT_GT(bytes.size(), 200u);
  for (size_t n = 0; n < bytes.size(); ++n) {
    spit(bad, bytes, n);
    const std::string m = read_error(bad);
    if (::testing::Test::HasFailure()) FAIL() << "cut at " << n << ": " << m;
  }
}

TEST(XfpFile, FlippedByteAnywhereIsRejectedAndPayloadFlipsNameTheSection) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string dir = testing::temp_dir();
  const std::string good = dir + "/good.xfp", bad = dir + "/flip.xfp";
  write_xfp_v1(good, sample_file(rng, true));
  const auto bytes = slurp(good);
  const LayoutAt L = walk(bytes);
  std::set<std::string> tags;
  for (const auto& r : L.records)
    for (const auto& s : r.sections) tags.insert(s.tag);
  EXPECT_EQ(tags, (std::set<std::string>{"INDX", "CBKS", "GIDS", "GSCL", "GZRO", "OUTL"}));
  for (size_t at = 0; at < bytes.size(); ++at) {
    auto b = bytes;
    b[at] ^= uint8_t(1 + rng() % 255);
    spit(bad, b, b.size());
    const std::string m = read_error(bad);
    if (::testing::Test::HasFailure()) FAIL() << "flip at " << at << ": " << m;
    std::string expect;
    for (const auto& r : L.records) {
      if (at >= r.header_at && at < r.header_crc_at + 4) expect = "layer header CRC mismatch";
      for (const auto& s : r.sections)
        if (at >= s.payload_at && at < s.crc_at + 4) expect = "section " + s.tag;
    }
    if (at >= L.layer_count_at && at < L.header_crc_at + 4) expect = "file header CRC mismatch";
    if (!expect.empty()) {
      ASSERT_NE(m.find(expect), std::string::npos) << at << ": " << m;
      ASSERT_NE(m.find("CRC mismatch"), std::string::npos) << at << ": " << m;
    }
  }
}

TEST(XfpFile, BadMagicVersionFlagsTrailingData) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string dir = testing::temp_dir();
  const std::string good = dir + "/good.xfp", bad = dir + "/bad.xfp";
  write_xfp_v1(good, sample_file(rng, true));
  const auto bytes = slurp(good);

  auto b = bytes;
  b[0] = 'X';
  spit(bad, b, b.size());
  EXPECT_NE(read_error(bad).find("bad magic"), std::string::npos);

  b = bytes;
  put_le(b, 8, 3, 2);
  spit(bad, b, b.size());
  EXPECT_NE(read_error(bad).find("unsupported version 3"), std::string::npos);

  // A version 1 body labelled version 2 has no index trailer.
  b = bytes;
  put_le(b, 8, 2, 2);
  spit(bad, b, b.size());
  EXPECT_NE(read_error(bad).find("no index: the writer was interrupted?"), std::string::npos);

  b = bytes;
  put_le(b, 10, 1, 2);
  spit(bad, b, b.size());
  EXPECT_NE(read_error(bad).find("unsupported flags"), std::string::npos);

  b = bytes;
  b.push_back(0);
  spit(bad, b, b.size());
  EXPECT_NE(read_error(bad).find("trailing data"), std::string::npos);

  spit(bad, bytes, 0);
  EXPECT_NE(read_error(bad).find("empty"), std::string::npos);
}

// Absurd lengths are rejected before anything is allocated from them. The
// checksums are fixed up so that the length check itself is what fires.
TEST(XfpFile, AbsurdLengths) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string dir = testing::temp_dir();
  const std::string good = dir + "/good.xfp", bad = dir + "/bad.xfp";
  write_xfp_v1(good, sample_file(rng, true));
  const auto bytes = slurp(good);
  const LayoutAt L = walk(bytes);
  auto fix_file_crc = [&](std::vector<uint8_t>& b) { put_le(b, L.header_crc_at, crc32(b.data(), L.header_crc_at), 4); };

  auto b = bytes;
  put_le(b, L.layer_count_at, 0xffffffffu, 4);
  fix_file_crc(b);
  spit(bad, b, b.size());
  EXPECT_NE(read_error(bad).find("layer count 4294967295 cannot fit"), std::string::npos);

  b = bytes;
  put_le(b, 12, 0xfffffff0u, 4);  // metadata count
  spit(bad, b, b.size());
  EXPECT_NE(read_error(bad).find("metadata count"), std::string::npos);

  b = bytes;
  put_le(b, 16, 0xfffffff0u, 4);  // first metadata key length
  spit(bad, b, b.size());
  EXPECT_NE(read_error(bad).find("truncated"), std::string::npos);

  b = bytes;
  put_le(b, L.records[0].start, uint64_t(1) << 62, 8);
  spit(bad, b, b.size());
  EXPECT_NE(read_error(bad).find("runs past the end of the file"), std::string::npos);

  b = bytes;
  put_le(b, L.records[0].start + 8, 0xfffffff0u, 4);  // header length
  spit(bad, b, b.size());
  EXPECT_NE(read_error(bad).find("truncated"), std::string::npos);

  b = bytes;
  const SectionAt& s = L.records[0].sections[0];
  put_le(b, s.tag_at + 4, ~uint64_t(0), 8);
  spit(bad, b, b.size());
  const std::string m = read_error(bad);
  EXPECT_NE(m.find("runs past the record"), std::string::npos) << m;
  EXPECT_NE(m.find("offset " + std::to_string(s.tag_at + 4)), std::string::npos) << m;
}

TEST(XfpFile, UnknownCodesAndInvalidLayersNameTheLayer) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string dir = testing::temp_dir();
  const std::string good = dir + "/good.xfp", bad = dir + "/bad.xfp";
  XfpFile f = sample_file(rng, true);
  write_xfp_v1(good, f);
  const auto bytes = slurp(good);
  const LayoutAt L = walk(bytes);
  const RecordAt& r = L.records[0];
  const size_t name_len = get_le(bytes, r.header_at, 4);
  const size_t role_at = r.header_at + 4 + name_len, scheme_at = role_at + 9;
  auto fix_header = [&](std::vector<uint8_t>& b) {
    put_le(b, r.header_crc_at, crc32(&b[r.header_at], r.header_len), 4);
  };
  const std::string name = f.layers[0].name;

  auto b = bytes;
  b[role_at] = 17;
  fix_header(b);
  spit(bad, b, b.size());
  std::string m = read_error(bad);
  EXPECT_NE(m.find("unknown role code 17"), std::string::npos) << m;
  EXPECT_NE(m.find(name), std::string::npos) << m;

  b = bytes;
  b[scheme_at] = 99;
  fix_header(b);
  spit(bad, b, b.size());
  m = read_error(bad);
  EXPECT_NE(m.find("unknown scheme code 99"), std::string::npos) << m;

  b = bytes;
  b[r.sections[0].tag_at] = 'Z';
  spit(bad, b, b.size());
  EXPECT_NE(read_error(bad).find("unknown section tag 'ZNDX'"), std::string::npos);

  // A well-formed record whose contents break an invariant: validate() speaks.
  b = bytes;
  b[scheme_at + 1] = 7;  // bits = 7
  fix_header(b);
  spit(bad, b, b.size());
  m = read_error(bad);
  EXPECT_NE(m.find("index width 7"), std::string::npos) << m;
  EXPECT_NE(m.find("layer '" + name + "'"), std::string::npos) << m;
}

TEST(XfpFile, FailedWriteLeavesNoFile) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string dir = testing::temp_dir();
  const std::string path = dir + "/out.xfp";
  XfpFile f = sample_file(rng, false);
  f.layers.back().bits = 7;  // invalid: found only after earlier layers were written
  try {
    write_xfp(path, f);
    FAIL() << "wrote an invalid layer";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(dir)) << "a partial or temp file remains";

  // An existing file survives a failed overwrite untouched.
  XfpFile ok = sample_file(rng, false);
  write_xfp(path, ok);
  const auto before = slurp(path);
  EXPECT_THROW(write_xfp(path, f), Error);
  EXPECT_EQ(slurp(path), before);
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) (void)e, ++entries;
  EXPECT_EQ(entries, 1u);

  // Duplicate names are refused too.
  XfpFile dup = ok;
  dup.layers.push_back(dup.layers[0]);
  EXPECT_THROW(write_xfp(dir + "/dup.xfp", dup), Error);
  EXPECT_FALSE(fs::exists(dir + "/dup.xfp"));
}

TEST(XfpFile, MissingFileIsAnIoError) {
  try {
    read_xfp(testing::temp_dir() + "/nope.xfp");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kIo);
  }
}

}  // namespace
}  // namespace lutc

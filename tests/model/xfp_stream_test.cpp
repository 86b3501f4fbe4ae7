// XfpWriter / XfpReader: the version 2 container written record by record and
// read from its index, kept tensors and aliases, interrupted and corrupt files,
// and version 1 files (a fixture the old writer made) read by the new reader.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "bad_input_checks.h"
#include "file_bytes.h"
#include "formats/xfp_codec.h"
#include "layer_samples.h"
#include "lutc/model/error.h"
#include "lutc/model/golden.h"
#include "lutc/model/matrix_source.h"
#include "lutc/model/quantize.h"
#include "lutc/model/roles.h"
#include "lutc/model/sop.h"
#include "lutc/model/xfp_file.h"
#include "test_data.h"

namespace lutc {
namespace {

namespace fs = std::filesystem;
using testing::random_layer;
using testing::same_layer;

using testing::bad_input;
using testing::get_le;
using testing::put_le;
using testing::slurp;
using testing::spit;

std::string open_error(const std::string& path) {
  return bad_input(path, [&] { XfpReader r(path); });
}

QuantizedLayer sop_layer(std::mt19937_64& rng) {
  std::normal_distribution<float> g(0, 0.02f);
  const uint32_t rows = 3, cols = 40;
  std::vector<float> w(rows * cols);
  for (float& x : w) x = g(rng);
  SopOptions o;
  o.format = parse_sop_format("e2m3.ue4m4.b16");
  return quantize_sop("sop", Role::kMlp, w.data(), rows, cols, o);
}

KeptTensor random_kept(std::mt19937_64& rng, DType dtype, unsigned rank) {
  KeptTensor t;
  t.name = std::string("kept.") + dtype_name(dtype) + ".r" + std::to_string(rank) + "." + std::to_string(rng() % 1000);
  t.dtype = dtype;
  for (unsigned i = 0; i < rank; ++i) t.shape.push_back(1 + rng() % 5);
  t.bytes.resize(size_t(t.elements() * dtype_size(dtype)));
  for (auto& b : t.bytes) b = uint8_t(rng());
  return t;
}

bool same_kept(const KeptTensor& a, const KeptTensor& b) {
  return a.name == b.name && a.dtype == b.dtype && a.shape == b.shape && a.bytes == b.bytes;
}

// Layers of every scheme, kept tensors of every dtype and rank, and aliases
// to both kinds; names unique.
XfpFile sample_model(std::mt19937_64& rng, bool small) {
  XfpFile f;
  f.metadata["source"] = "stream test";
  testing::SampleOptions o;
  if (small) {
    o.rows = 2;
    o.cols = 9;
  }
  for (Scheme s : testing::kDecodableSchemes) {
    QuantizedLayer l = random_layer(s, rng, o);
    l.name = std::string("layer.") + scheme_name(s);
    f.layers.push_back(l);
  }
  QuantizedLayer sop = sop_layer(rng);
  sop.name = "layer.sop";
  f.layers.push_back(sop);
  for (DType d : {DType::kF32, DType::kF16, DType::kBF16, DType::kF64})
    for (unsigned rank = 1; rank <= 4; ++rank) {
      if (small && rank > 2) continue;
      KeptTensor t = random_kept(rng, d, rank);
      t.name += "." + std::to_string(f.kept.size());
      f.kept.push_back(t);
    }
  f.aliases.push_back({"lm_head.weight", f.layers[0].name});
  f.aliases.push_back({"tied.norm", f.kept.back().name});
  return f;
}

void expect_same_file(const XfpFile& a, const XfpFile& b) {
  EXPECT_EQ(a.metadata, b.metadata);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) EXPECT_TRUE(same_layer(a.layers[i], b.layers[i])) << a.layers[i].name;
  ASSERT_EQ(a.kept.size(), b.kept.size());
  for (size_t i = 0; i < a.kept.size(); ++i) EXPECT_TRUE(same_kept(a.kept[i], b.kept[i])) << a.kept[i].name;
  ASSERT_EQ(a.aliases.size(), b.aliases.size());
  for (size_t i = 0; i < a.aliases.size(); ++i) {
    EXPECT_EQ(a.aliases[i].name, b.aliases[i].name);
    EXPECT_EQ(a.aliases[i].target, b.aliases[i].target);
  }
}

TEST(XfpStream, InterleavedRecordsRoundTripThroughWriterAndReader) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string path = testing::temp_dir() + "/model.xfp";
  for (int trial = 0; trial < 8; ++trial) {
    const XfpFile f = sample_model(rng, false);
    // Records in a random order (aliases after their targets), as a streaming producer would emit them.
    std::vector<std::pair<XfpRecordKind, size_t>> order;
    for (size_t i = 0; i < f.layers.size(); ++i) order.push_back({XfpRecordKind::kLayer, i});
    for (size_t i = 0; i < f.kept.size(); ++i) order.push_back({XfpRecordKind::kKept, i});
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t i = 0; i < f.aliases.size(); ++i) order.push_back({XfpRecordKind::kAlias, i});
    {
      XfpWriter w(path, f.metadata);
      for (auto [kind, i] : order) {
        if (kind == XfpRecordKind::kLayer) w.append(f.layers[i]);
        if (kind == XfpRecordKind::kKept) w.append_kept(f.kept[i]);
        if (kind == XfpRecordKind::kAlias) w.append_alias(f.aliases[i]);
      }
      EXPECT_EQ(w.records(), order.size());
      w.commit();
    }
    const XfpReader r(path);
    EXPECT_EQ(r.version(), 2);
    EXPECT_EQ(r.metadata(), f.metadata);
    EXPECT_EQ(r.layer_count(), f.layers.size());
    ASSERT_EQ(r.records().size(), order.size());
    uint64_t in_records = 0;
    for (size_t k = 0; k < order.size(); ++k) {
      const XfpRecordInfo& e = r.records()[k];
      const auto [kind, i] = order[k];
      ASSERT_EQ(e.kind, kind);
      EXPECT_EQ(r.find(e.name), k);
      if (kind == XfpRecordKind::kLayer) {
        const QuantizedLayer& l = f.layers[i];
        EXPECT_EQ(e.name, l.name);
        EXPECT_EQ(e.role, l.role);
        EXPECT_EQ(e.rows, l.rows);
        EXPECT_EQ(e.cols, l.cols);
        EXPECT_EQ(e.scheme, l.scheme);
        EXPECT_EQ(e.bits, l.bits);
        EXPECT_EQ(e.group, l.group);
        EXPECT_EQ(e.outliers, l.outliers.count());
        EXPECT_EQ(e.stored_bits(), stored_bits(l));
        EXPECT_TRUE(same_layer(r.read_layer(k), l)) << l.name;
        in_records += e.length;
      } else if (kind == XfpRecordKind::kKept) {
        EXPECT_EQ(e.name, f.kept[i].name);
        EXPECT_EQ(e.dtype, f.kept[i].dtype);
        EXPECT_EQ(e.shape, f.kept[i].shape);
        EXPECT_TRUE(same_kept(r.read_kept(k), f.kept[i])) << f.kept[i].name;
        in_records += e.length;
      } else {
        EXPECT_EQ(e.target, f.aliases[i].target);
        const XfpAlias a = r.read_alias(k);
        EXPECT_EQ(a.name, f.aliases[i].name);
        EXPECT_EQ(a.target, f.aliases[i].target);
      }
    }
    EXPECT_EQ(r.find("no such record"), r.records().size());
    EXPECT_THROW(r.read_kept(r.find(f.layers[0].name)), Error);  // wrong kind
    // read_xfp groups the same records by kind, in file order; file_header_bytes() predicts the overhead.
    XfpFile in_order;
    in_order.metadata = f.metadata;
    for (auto [kind, i] : order) {
      if (kind == XfpRecordKind::kLayer) in_order.layers.push_back(f.layers[i]);
      if (kind == XfpRecordKind::kKept) in_order.kept.push_back(f.kept[i]);
      if (kind == XfpRecordKind::kAlias) in_order.aliases.push_back(f.aliases[i]);
    }
    expect_same_file(read_xfp(path), in_order);
    EXPECT_EQ(r.overhead_bytes(), r.file_size() - in_records);
    EXPECT_EQ(r.overhead_bytes(), file_header_bytes(f));
  }
}

TEST(XfpStream, WriteXfpOfAWholeModelRoundTrips) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string path = testing::temp_dir() + "/whole.xfp";
  const XfpFile f = sample_model(rng, false);
  write_xfp(path, f);
  expect_same_file(read_xfp(path), f);
  // An empty model is a valid file too.
  write_xfp(path, XfpFile{});
  const XfpReader r(path);
  EXPECT_TRUE(r.records().empty());
  EXPECT_EQ(r.overhead_bytes(), fs::file_size(path));
  EXPECT_EQ(file_header_bytes(XfpFile{}), fs::file_size(path));
}

TEST(XfpStream, WriterDestroyedWithoutCommitLeavesNoFile) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string dir = testing::temp_dir();
  const XfpFile f = sample_model(rng, true);
  {
    XfpWriter w(dir + "/a.xfp", f.metadata);
    for (const auto& l : f.layers) w.append(l);
    EXPECT_GT(w.bytes_written(), 0u);
  }
  EXPECT_TRUE(fs::is_empty(dir)) << "a partial or temp file remains";
  // An invalid layer mid-stream: the exception unwinds the writer.
  QuantizedLayer bad = f.layers[1];
  bad.bits = 7;
  try {
    XfpWriter w(dir + "/b.xfp", f.metadata);
    w.append(f.layers[0]);
    w.append(bad);
    w.commit();
    FAIL() << "wrote an invalid layer";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
  }
  EXPECT_TRUE(fs::is_empty(dir)) << "a partial or temp file remains";
  // An existing file survives an abandoned rewrite untouched.
  write_xfp(dir + "/c.xfp", f);
  const auto before = slurp(dir + "/c.xfp");
  {
    XfpWriter w(dir + "/c.xfp", {});
    w.append(f.layers[0]);
  }
  EXPECT_EQ(slurp(dir + "/c.xfp"), before);
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) (void)e, ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(XfpStream, DuplicateNamesAndBadAliasesAreRefused) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string dir = testing::temp_dir();
  const XfpFile f = sample_model(rng, true);
  auto expect_refused = [&](const std::function<void(XfpWriter&)>& bad, const std::string& words) {
    XfpWriter w(dir + "/dup.xfp", {});
    w.append(f.layers[0]);
    w.append_kept(f.kept[0]);
    w.append_alias({"alias.a", f.layers[0].name});
    try {
      bad(w);
      ADD_FAILURE() << "accepted: " << words;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kBadInput);
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
    // The writer is still usable after a refused record.
    w.append(f.layers[1]);
    w.commit();
    EXPECT_EQ(XfpReader(dir + "/dup.xfp").records().size(), 4u);
  };
  expect_refused([&](XfpWriter& w) { w.append(f.layers[0]); }, "duplicate record name '" + f.layers[0].name + "'");
  KeptTensor k = f.kept[1];
  k.name = f.layers[0].name;
  expect_refused([&](XfpWriter& w) { w.append_kept(k); }, "duplicate record name '" + f.layers[0].name + "'");
  QuantizedLayer l = f.layers[2];
  l.name = f.kept[0].name;
  expect_refused([&](XfpWriter& w) { w.append(l); }, "duplicate record name '" + f.kept[0].name + "'");
  expect_refused([&](XfpWriter& w) { w.append_alias({"alias.a", f.kept[0].name}); }, "duplicate record name 'alias.a'");
  expect_refused([&](XfpWriter& w) { w.append_alias({"x", "missing"}); }, "alias target 'missing'");
  expect_refused([&](XfpWriter& w) { w.append_alias({"x", "alias.a"}); }, "alias target 'alias.a'");
  KeptTensor wrong = f.kept[1];
  wrong.bytes.pop_back();
  expect_refused([&](XfpWriter& w) { w.append_kept(wrong); }, "the shape and dtype need");
  wrong = f.kept[1];
  wrong.dtype = DType::kI32;
  expect_refused([&](XfpWriter& w) { w.append_kept(wrong); }, "cannot be kept");
  wrong = f.kept[1];
  wrong.shape = {1, 1, 1, 1, 1};
  expect_refused([&](XfpWriter& w) { w.append_kept(wrong); }, "rank 5");
  // write_xfp refuses a duplicate the same way and leaves nothing behind.
  XfpFile dup = f;
  dup.layers.push_back(dup.layers[0]);
  EXPECT_THROW(write_xfp(dir + "/dup2.xfp", dup), Error);
  EXPECT_FALSE(fs::exists(dir + "/dup2.xfp"));
}

TEST(XfpStream, TruncatedAtEveryOffsetIsRefusedAsInterrupted) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string dir = testing::temp_dir();
  const std::string good = dir + "/good.xfp", bad = dir + "/cut.xfp";
  write_xfp(good, sample_model(rng, true));
  const auto bytes = slurp(good);
  for (size_t n = 0; n < bytes.size(); ++n) {
    spit(bad, bytes, n);
    const std::string m = open_error(bad);
    if (::testing::Test::HasFailure()) FAIL() << "cut at " << n << ": " << m;
    if (n >= 12) {
      ASSERT_NE(m.find("no index: the writer was interrupted?"), std::string::npos) << n << ": " << m;
    }
  }
}

// Every byte of a small file flipped: opening or reading then fails, never
// crashes; flips in the index and trailer are caught when the file is opened.
TEST(XfpStream, FlippedByteAnywhereIsRefused) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string dir = testing::temp_dir();
  const std::string good = dir + "/good.xfp", bad = dir + "/flip.xfp";
  write_xfp(good, sample_model(rng, true));
  const auto bytes = slurp(good);
  const uint64_t footer_at = get_le(bytes, bytes.size() - xfp_codec::kTrailerBytes, 8);
  for (size_t at = 0; at < bytes.size(); ++at) {
    auto b = bytes;
    b[at] ^= uint8_t(1 + rng() % 255);
    spit(bad, b, b.size());
    const std::string m = at >= footer_at ? open_error(bad) : bad_input(bad, [&] { read_xfp(bad); });
    if (::testing::Test::HasFailure()) FAIL() << "flip at " << at << ": " << m;
  }
}

// Counts and lengths in the index are checked against the file before
// anything is allocated from them; the CRCs are fixed up so that the check
// itself is what fires.
TEST(XfpStream, AbsurdIndexValuesAreRefusedBeforeAllocating) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string dir = testing::temp_dir();
  const std::string good = dir + "/good.xfp", bad = dir + "/bad.xfp";
  XfpFile f;
  f.kept.push_back(random_kept(rng, DType::kBF16, 2));
  f.kept[0].name = "k";
  write_xfp(good, f);
  const auto bytes = slurp(good);
  const size_t trailer_at = bytes.size() - xfp_codec::kTrailerBytes;
  const size_t footer_at = size_t(get_le(bytes, trailer_at, 8));
  const size_t footer_crc_at = trailer_at - 4;
  auto fix = [&](std::vector<uint8_t>& b) {
    put_le(b, footer_crc_at, crc32(&b[footer_at], footer_crc_at - footer_at), 4);
  };
  // Entry layout: kind, name (4 + 1), offset, length, dtype, rank, dims.
  const size_t entry_at = footer_at + 8, offset_at = entry_at + 6, length_at = offset_at + 8;
  const size_t dim0_at = length_at + 8 + 2;

  auto b = bytes;
  put_le(b, footer_at + 4, 0xffffffffu, 4);
  fix(b);
  spit(bad, b, b.size());
  EXPECT_NE(open_error(bad).find("index entry count 4294967295 cannot fit"), std::string::npos);

  b = bytes;
  put_le(b, length_at, uint64_t(1) << 62, 8);
  fix(b);
  spit(bad, b, b.size());
  EXPECT_NE(open_error(bad).find("records tile"), std::string::npos);

  b = bytes;
  put_le(b, offset_at, 3, 8);
  fix(b);
  spit(bad, b, b.size());
  EXPECT_NE(open_error(bad).find("records tile"), std::string::npos);

  b = bytes;
  put_le(b, dim0_at, uint64_t(1) << 40, 8);
  fix(b);
  spit(bad, b, b.size());
  EXPECT_NE(open_error(bad).find("cannot fit in its record"), std::string::npos);

  b = bytes;
  put_le(b, entry_at + 1, 0xfffffff0u, 4);  // name length
  fix(b);
  spit(bad, b, b.size());
  EXPECT_NE(open_error(bad).find("truncated"), std::string::npos);

  b = bytes;
  put_le(b, trailer_at, uint64_t(1) << 60, 8);
  put_le(b, trailer_at + 8, crc32(&b[trailer_at], 8), 4);
  spit(bad, b, b.size());
  EXPECT_NE(open_error(bad).find("outside the file's body"), std::string::npos);

  b = bytes;
  b[trailer_at + 8] ^= 1;
  spit(bad, b, b.size());
  EXPECT_NE(open_error(bad).find("index trailer CRC mismatch"), std::string::npos);

  b = bytes;
  b[footer_at + 2] ^= 1;
  spit(bad, b, b.size());
  EXPECT_NE(open_error(bad).find("index CRC mismatch"), std::string::npos);
}

// The reader loads only what it is asked for: every record's payload but one
// is corrupt, yet the index opens and that one record reads; each corrupt one
// fails naming itself and its offset.
TEST(XfpStream, ReadingOneRecordDoesNotReadTheOthers) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string dir = testing::temp_dir();
  const std::string good = dir + "/many.xfp", bad = dir + "/bad.xfp";
  XfpFile f;
  for (int i = 0; i < 60; ++i) {
    QuantizedLayer l = random_layer(testing::kDecodableSchemes[i % 5], rng);
    l.name = "blk." + std::to_string(i);
    f.layers.push_back(l);
  }
  f.kept.push_back(random_kept(rng, DType::kF16, 1));
  write_xfp(good, f);
  const XfpReader clean(good);
  const size_t keep = rng() % clean.records().size();
  auto b = slurp(good);
  for (size_t i = 0; i < clean.records().size(); ++i) {
    const XfpRecordInfo& e = clean.records()[i];
    if (i != keep) b[e.offset + e.length - 5] ^= 0x40;  // last payload byte, before its CRC
  }
  spit(bad, b, b.size());
  const XfpReader r(bad);
  ASSERT_EQ(r.records().size(), f.layers.size() + 1);
  if (keep < f.layers.size())
    EXPECT_TRUE(same_layer(r.read_layer(keep), f.layers[keep]));
  else
    EXPECT_TRUE(same_kept(r.read_kept(keep), f.kept[0]));
  for (size_t i = 0; i < r.records().size(); i += 7) {
    if (i == keep) continue;
    const XfpRecordInfo& e = r.records()[i];
    const std::string m = bad_input(bad, [&] {
      if (e.kind == XfpRecordKind::kLayer)
        r.read_layer(i);
      else
        r.read_kept(i);
    });
    EXPECT_NE(m.find("'" + e.name + "'"), std::string::npos) << m;
    EXPECT_NE(m.find("CRC mismatch"), std::string::npos) << m;
  }
}

// A version 1 file the old writer made (tests/data/README.md): the new reader
// indexes it, and every layer decodes exactly as quantizing the same tensor
// with the same options does now.
TEST(XfpStream, Version1FixtureDecodesAsFreshQuantization) {
  const std::string fixture = std::string(LUTC_TEST_DATA) + "/stories260K_layers0-2.xfp.v2b4.v1.xfp";
  const std::string weights = testing::shared_data("stories260K/stories260K.safetensors");
  if (!testing::require_file(weights)) return;
  const XfpReader r(fixture);
  EXPECT_EQ(r.version(), 1);
  EXPECT_EQ(r.metadata().at("scheme"), "xfp.v2");
  ASSERT_EQ(r.records().size(), 21u);
  auto src = MatrixSource::open(weights);
  const RoleRules rules;
  XfpOptions o;
  o.mode = Scheme::kXfpV2;
  o.bits = 4;
  o.outlier_fraction = 0;
  for (size_t i = 0; i < r.records().size(); ++i) {
    const XfpRecordInfo& e = r.records()[i];
    ASSERT_EQ(e.kind, XfpRecordKind::kLayer);
    const MatrixEntry* m = src->find(e.name);
    ASSERT_NE(m, nullptr) << e.name;
    EXPECT_EQ(e.rows, m->rows);
    EXPECT_EQ(e.cols, m->cols);
    const QuantizedLayer old = r.read_layer(i);
    const std::vector<float> w = src->load(*m);
    const QuantizedLayer fresh = quantize_xfp(m->name, rules.classify(m->name), w.data(), m->rows, m->cols, o);
    EXPECT_EQ(old.role, fresh.role) << e.name;
    std::vector<float> a(w.size()), b(w.size());
    golden_decode(old, a.data());
    golden_decode(fresh, b.data());
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << e.name;
    EXPECT_EQ(e.stored_bits(), stored_bits(old));
  }
  // The whole-file path reads it too, and a re-write as version 2 holds the same layers.
  const XfpFile f = read_xfp(fixture);
  const std::string v2 = testing::temp_dir() + "/v2.xfp";
  write_xfp(v2, f);
  expect_same_file(read_xfp(v2), f);
}

// Version 1 files are indexed by one scan of record headers: a corrupt
// payload in one layer does not stop another from reading.
TEST(XfpStream, Version1ReaderLoadsOneLayerAtATime) {
  std::mt19937_64 rng(testing::fresh_seed());
  const std::string dir = testing::temp_dir();
  XfpFile f;
  for (int i = 0; i < 10; ++i) {
    QuantizedLayer l = random_layer(testing::kDecodableSchemes[i % 5], rng);
    l.name = "v1." + std::to_string(i);
    f.layers.push_back(l);
  }
  xfp_codec::write_xfp_v1(dir + "/v1.xfp", f);
  const XfpReader clean(dir + "/v1.xfp");
  ASSERT_EQ(clean.version(), 1);
  for (size_t i = 0; i < f.layers.size(); ++i) {
    EXPECT_EQ(clean.records()[i].outliers, f.layers[i].outliers.count());
    EXPECT_EQ(clean.records()[i].stored_bits(), stored_bits(f.layers[i]));
  }
  auto b = slurp(dir + "/v1.xfp");
  const XfpRecordInfo& e3 = clean.records()[3];
  b[e3.offset + e3.length - 5] ^= 0x10;
  spit(dir + "/bad.xfp", b, b.size());
  const XfpReader r(dir + "/bad.xfp");
  EXPECT_TRUE(same_layer(r.read_layer(4), f.layers[4]));
  const std::string m = bad_input(dir + "/bad.xfp", [&] { r.read_layer(3); });
  EXPECT_NE(m.find("'v1.3'"), std::string::npos) << m;
}

}  // namespace
}  // namespace lutc

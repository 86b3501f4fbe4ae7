// Report rows and totals: the facts copied from a layer or an index entry,
// the floor recorded in a layer's params, the totals over rows (sums and
// SQNR recomputed here), and the table and JSON shapes of docs/reports.md.
#include "lutc/model/layer_report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "layer_samples.h"
#include "lutc/model/xfp_file.h"
#include "test_data.h"

namespace lutc {
namespace {

// A row with quality stats made up (not measured): total_of only adds them.
LayerReport row_with_quality(std::mt19937_64& rng, const std::string& name) {
  std::uniform_real_distribution<double> u(0, 1);
  LayerReport r;
  r.name = name;
  r.role = "attention";
  r.rows = 1 + uint32_t(rng() % 64);
  r.cols = 1 + uint32_t(rng() % 512);
  r.scheme = "xfp.v2";
  r.bits = 4;
  r.outliers = rng() % 10;
  r.stored_bits = uint64_t(r.rows) * r.cols * 4 + rng() % 1000;
  r.bpw = double(r.stored_bits) / (double(r.rows) * r.cols);
  r.has_quality = true;
  r.quality.signal = 1 + 100 * u(rng);
  r.quality.error = r.quality.signal * 1e-3 * u(rng);
  r.quality.sqnr_db = 10 * std::log10(r.quality.signal / r.quality.error);
  r.quality.cos_min = 0.9 + 0.1 * u(rng);
  r.quality.cos_mean = r.quality.cos_min;
  r.quality.dead_rows = uint32_t(rng() % 3);
  r.quality.tiny_rows = uint32_t(rng() % 3);
  r.floor = 0.95;
  r.floor_met = r.quality.cos_min >= r.floor;
  return r;
}

std::string table_of(const std::vector<LayerReport>& rows, const ReportTotals& t) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  print_report_table(f, rows, t);
  std::fclose(f);
  std::string s(buf, len);
  std::free(buf);
  return s;
}

TEST(DescribeLayer, CopiesTheStoredFacts) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (Scheme s : {Scheme::kXfpV2, Scheme::kXfpV2a, Scheme::kInt4G128, Scheme::kNf4B64, Scheme::kFp8E4M3}) {
    const QuantizedLayer l = testing::random_layer(s, rng);
    const LayerReport r = describe_layer(l);
    EXPECT_EQ(r.name, l.name);
    EXPECT_EQ(r.role, role_name(l.role));
    EXPECT_EQ(r.rows, l.rows);
    EXPECT_EQ(r.cols, l.cols);
    EXPECT_EQ(r.scheme, scheme_name(s));
    EXPECT_EQ(r.bits, l.bits);
    EXPECT_EQ(r.group, l.group);
    EXPECT_EQ(r.outliers, l.outliers.count());
    EXPECT_EQ(r.stored_bits, stored_bits(l));
    // At least the packed indices are stored.
    EXPECT_GE(r.stored_bits, l.elements() * l.bits);
    EXPECT_DOUBLE_EQ(r.bpw, double(r.stored_bits) / double(l.elements()));
    EXPECT_FALSE(r.has_quality);
    EXPECT_FALSE(r.has_recorded);
  }
}

TEST(DescribeRecord, StoredBitsAreTheRecordsBytes) {
  XfpRecordInfo e;
  e.name = "blk.3.ffn_down";
  e.role = Role::kMlp;
  e.rows = 172;
  e.cols = 64;
  e.scheme = Scheme::kNf4B64;
  e.bits = 4;
  e.group = 64;
  e.outliers = 11;
  e.length = 6000;
  const LayerReport r = describe_record(e);
  EXPECT_EQ(r.name, "blk.3.ffn_down");
  EXPECT_EQ(r.role, role_name(Role::kMlp));
  EXPECT_EQ(r.scheme, "nf4.b64");
  EXPECT_EQ(r.rows, 172u);
  EXPECT_EQ(r.cols, 64u);
  EXPECT_EQ(r.bits, 4u);
  EXPECT_EQ(r.group, 64u);
  EXPECT_EQ(r.outliers, 11u);
  EXPECT_EQ(r.stored_bits, 48000u);
  EXPECT_DOUBLE_EQ(r.bpw, 48000.0 / (172.0 * 64.0));
}

TEST(RecordedFloor, OnlyAFloorSearchRecordsAFloor) {
  QuantizedLayer l;
  EXPECT_EQ(recorded_floor(l), 0.0);
  l.params["floor"] = "0.985";
  EXPECT_EQ(recorded_floor(l), 0.0) << "a fixed width records the option, not a floor it aimed at";
  l.params["search"] = "fixed";
  EXPECT_EQ(recorded_floor(l), 0.0);
  l.params["search"] = "auto";
  EXPECT_EQ(recorded_floor(l), 0.985);
  l.params["floor"] = "not a number";
  EXPECT_EQ(recorded_floor(l), 0.0);
  l.params["floor"] = "";
  EXPECT_EQ(recorded_floor(l), 0.0);
  l.params.erase("floor");
  EXPECT_EQ(recorded_floor(l), 0.0);
}

TEST(AddRecordedFacts, ReadsFloorMetAndCosMin) {
  LayerReport r;
  QuantizedLayer l;
  add_recorded_facts(r, l);
  EXPECT_TRUE(r.has_recorded);
  EXPECT_EQ(r.floor, 0.0);
  EXPECT_TRUE(r.floor_met) << "nothing recorded means nothing missed";
  EXPECT_TRUE(std::isnan(r.recorded_cos_min));

  l.params = {{"search", "auto"}, {"floor", "0.99"}, {"floor_met", "0"}, {"cos_min", "0.9876"}};
  LayerReport m;
  add_recorded_facts(m, l);
  EXPECT_EQ(m.floor, 0.99);
  EXPECT_FALSE(m.floor_met);
  EXPECT_EQ(m.recorded_cos_min, 0.9876);

  l.params["floor_met"] = "1";
  l.params["cos_min"] = "garbage";
  LayerReport g;
  add_recorded_facts(g, l);
  EXPECT_TRUE(g.floor_met);
  EXPECT_TRUE(std::isnan(g.recorded_cos_min)) << "an unparsable cos_min is absent, not an error";
}

TEST(AddQuality, FromDecodedRowsSetsFloorAndVerdict) {
  // Row 0 exact; row 1 at 90 degrees from its reference (cos 0).
  const std::vector<float> w = {1, 0, 0, 1}, w_hat = {1, 0, 1, 0};
  LayerReport r;
  r.rows = 2;
  r.cols = 2;
  add_quality(r, w.data(), w_hat.data(), 0.5);
  EXPECT_TRUE(r.has_quality);
  EXPECT_EQ(r.floor, 0.5);
  EXPECT_FALSE(r.floor_met);
  EXPECT_EQ(r.quality.rows_below_floor, 1u);
  EXPECT_EQ(r.quality.worst_row, 1u);
  EXPECT_NEAR(r.quality.cos_min, 0.0, 1e-12);
  LayerReport exact;
  exact.rows = 2;
  exact.cols = 2;
  add_quality(exact, w.data(), w.data(), 0.999);
  EXPECT_TRUE(exact.floor_met);
  EXPECT_TRUE(std::isinf(exact.quality.sqnr_db));
}

TEST(TotalOf, SumsRowsAndPoolsTheSqnr) {
  const uint64_t seed = testing::fresh_seed();
  SCOPED_TRACE("LUTC_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::vector<LayerReport> rows;
  for (int i = 0; i < 7; ++i) rows.push_back(row_with_quality(rng, "l" + std::to_string(i)));
  const uint64_t header = rng() % 4096;
  const ReportTotals t = total_of(rows, header);
  uint64_t elements = 0, bits = header, outliers = 0;
  double sig = 0, err = 0, cos_min = 1;
  uint32_t missed = 0, dead = 0, tiny = 0;
  for (const LayerReport& r : rows) {
    elements += uint64_t(r.rows) * r.cols;
    bits += r.stored_bits;
    outliers += r.outliers;
    sig += r.quality.signal;
    err += r.quality.error;
    cos_min = std::min(cos_min, r.quality.cos_min);
    missed += r.floor_met ? 0 : 1;
    dead += r.quality.dead_rows;
    tiny += r.quality.tiny_rows;
  }
  EXPECT_EQ(t.elements, elements);
  EXPECT_EQ(t.stored_bits, bits);
  EXPECT_EQ(t.outliers, outliers);
  EXPECT_DOUBLE_EQ(t.bpw, double(bits) / double(elements));
  // Pooled over elements: not the mean of the rows' SQNRs.
  EXPECT_NEAR(t.sqnr_db, 10 * std::log10(sig / err), 1e-9);
  EXPECT_EQ(t.cos_min, cos_min);
  EXPECT_EQ(t.floors_missed, missed);
  EXPECT_EQ(t.dead_rows, dead);
  EXPECT_EQ(t.tiny_rows, tiny);
}

TEST(TotalOf, NoRowsAndRowsWithoutQuality) {
  const ReportTotals empty = total_of({});
  EXPECT_EQ(empty.elements, 0u);
  EXPECT_EQ(empty.bpw, 0.0);
  EXPECT_EQ(empty.cos_min, 1.0);
  EXPECT_TRUE(std::isinf(empty.sqnr_db));

  LayerReport info;  // as `info` makes it: stored facts only
  info.rows = 4;
  info.cols = 8;
  info.stored_bits = 100;
  info.floor_met = false;  // not counted: there is no quality to have missed it by
  const ReportTotals t = total_of({info, info}, 56);
  EXPECT_EQ(t.elements, 64u);
  EXPECT_EQ(t.stored_bits, 256u);
  EXPECT_DOUBLE_EQ(t.bpw, 4.0);
  EXPECT_EQ(t.floors_missed, 0u);
  EXPECT_EQ(t.cos_min, 1.0);
}

TEST(ReportJson, KeysFollowWhatTheRowKnows) {
  std::mt19937_64 rng(testing::fresh_seed());
  LayerReport q = row_with_quality(rng, "with_quality");
  q.floor = 0;  // no floor: null, not 0
  LayerReport rec;
  rec.name = "recorded";
  rec.rows = 2;
  rec.cols = 3;
  rec.has_recorded = true;
  rec.floor = 0.98;
  rec.floor_met = false;
  LayerReport bare;
  bare.name = "bare";
  bare.rows = 1;
  bare.cols = 1;
  const std::vector<LayerReport> rows = {q, rec, bare};
  const ReportTotals t = total_of(rows);
  const nlohmann::json j = report_json(rows, t);

  ASSERT_EQ(j.at("layers").size(), 3u);
  const auto& jq = j["layers"][0];
  for (const char* key :
       {"name",      "role",        "rows",      "cols",      "scheme", "bits",      "group",
        "outliers",  "stored_bits", "bpw",       "sqnr_db",   "nmse",   "cos_min",   "cos_mean",
        "worst_row", "live_rows",   "dead_rows", "tiny_rows", "floor",  "floor_met", "rows_below_floor"})
    EXPECT_TRUE(jq.contains(key)) << key;
  EXPECT_EQ(jq["name"], "with_quality");
  EXPECT_EQ(jq["stored_bits"], q.stored_bits);
  EXPECT_TRUE(jq["floor"].is_null());
  EXPECT_TRUE(jq["floor_met"].is_null());
  EXPECT_FALSE(jq.contains("recorded"));

  const auto& jr = j["layers"][1];
  EXPECT_FALSE(jr.contains("sqnr_db"));
  ASSERT_TRUE(jr.contains("recorded"));
  EXPECT_EQ(jr["recorded"]["floor"], 0.98);
  EXPECT_EQ(jr["recorded"]["floor_met"], false);
  EXPECT_TRUE(jr["recorded"]["cos_min"].is_null()) << "NaN must not reach JSON";

  const auto& jb = j["layers"][2];
  EXPECT_FALSE(jb.contains("sqnr_db"));
  EXPECT_FALSE(jb.contains("recorded"));

  // The first row has quality, so the totals carry the quality keys.
  EXPECT_EQ(j["total"]["layers"], 3u);
  EXPECT_EQ(j["total"]["elements"], t.elements);
  EXPECT_TRUE(j["total"].contains("sqnr_db"));
  EXPECT_TRUE(j["total"].contains("floors_missed"));
  // Stays valid JSON text (no NaN or inf literals).
  EXPECT_EQ(nlohmann::json::parse(j.dump()), j);
}

TEST(ReportJson, InfiniteSqnrIsNull) {
  LayerReport r;
  r.name = "exact";
  r.rows = r.cols = 1;
  r.has_quality = true;
  r.quality.sqnr_db = INFINITY;
  const nlohmann::json j = report_json({r}, total_of({r}));
  EXPECT_TRUE(j["layers"][0]["sqnr_db"].is_null());
  EXPECT_TRUE(j["total"]["sqnr_db"].is_null());
  EXPECT_EQ(nlohmann::json::parse(j.dump()), j);
}

TEST(ReportTable, OneLinePerRowPlusHeaderAndTotal) {
  std::mt19937_64 rng(testing::fresh_seed());
  LayerReport missed = row_with_quality(rng, "short");
  missed.floor = 0.99;
  missed.floor_met = false;
  missed.quality.rows_below_floor = 3;
  missed.quality.worst_row = 7;
  missed.quality.dead_rows = 2;
  LayerReport long_name = row_with_quality(rng, "model.layers.12.self_attn.q_proj.weight" + std::string(40, 'x'));
  const std::vector<LayerReport> rows = {missed, long_name};
  const std::string s = table_of(rows, total_of(rows));
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 4) << s;
  EXPECT_EQ(s.rfind("layer", 0), 0u) << s;
  EXPECT_NE(s.find("MISSED (3 rows below, worst row 7)"), std::string::npos) << s;
  EXPECT_NE(s.find("[2 dead rows]"), std::string::npos) << s;
  // Names past 56 characters keep their tail.
  EXPECT_EQ(s.find(long_name.name), std::string::npos) << s;
  EXPECT_NE(s.find("..." + long_name.name.substr(long_name.name.size() - 53)), std::string::npos) << s;
  EXPECT_NE(s.find("total: 2 layers"), std::string::npos) << s;
  EXPECT_NE(s.find("floors missed"), std::string::npos) << s;
}

TEST(ReportTable, WithoutQualityShowsTheRecordedFacts) {
  LayerReport r;
  r.name = "blk.0.attn_q";
  r.role = "attention";
  r.rows = 64;
  r.cols = 64;
  r.scheme = "xfp.v2";
  r.bits = 4;
  r.has_recorded = true;
  r.floor = 0.985;
  r.floor_met = true;
  r.recorded_cos_min = 0.98765;
  const std::string s = table_of({r}, total_of({r}));
  EXPECT_NE(s.find("0.98765"), std::string::npos) << s;
  EXPECT_NE(s.find("0.9850 met"), std::string::npos) << s;
  EXPECT_EQ(s.find(", SQNR"), std::string::npos) << "no reference, no total SQNR: " << s;
  EXPECT_NE(s.find("64x64"), std::string::npos) << s;
}

}  // namespace
}  // namespace lutc

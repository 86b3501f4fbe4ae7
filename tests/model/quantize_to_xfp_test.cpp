// quantize into an .xfp (quantize_to_xfp.h): the file holds the pipeline's
// records in its order, decoding to the layers the pipeline hands out
// directly; the totals count the file's own overhead measured from the file
// size; the report document and the fates are the documented keys.
#include "lutc/model/quantize_to_xfp.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "lutc/model/golden.h"
#include "test_data.h"

namespace lutc {
namespace {

using namespace lutc::testing;

std::string model_path() { return shared_data("stories260K/stories260K.safetensors"); }

std::string record_name(const QuantizedRecord& r) {
  if (r.kind == XfpRecordKind::kKept) return r.kept.name;
  if (r.kind == XfpRecordKind::kAlias) return r.alias.name;
  return r.layer.name;
}

std::vector<float> decoded(const QuantizedLayer& l) {
  std::vector<float> w(size_t(l.rows) * l.cols);
  golden_decode(l, w.data());
  return w;
}

TEST(QuantizeToXfp, TheFileHoldsThePipelinesRecordsInOrder) {
  if (!require_file(model_path())) return;
  std::mt19937_64 rng(fresh_seed());
  FateOptions fo;
  fo.keep_embeddings = rng() % 2;
  const auto src = MatrixSource::open(model_path(), fo);
  QuantizeSettings s;
  const char* schemes[] = {"int4.g128", "nf4.b64", "xfp.v2"};
  s.scheme = schemes[rng() % 3];
  s.bits = s.scheme == "xfp.v2" ? 3 + unsigned(rng() % 2) : 0;
  s.threads = 1 + unsigned(rng() % 3);
  SCOPED_TRACE(s.scheme + ", " + std::to_string(s.threads) + " threads");
  std::string log;
  const QuantizePipeline pipeline(s, *src, &log);
  std::vector<QuantizedRecord> direct;
  pipeline.run([&](QuantizedRecord&& r) { direct.push_back(std::move(r)); });

  const std::string path = temp_dir() + "/out.xfp";
  XfpWriter writer(path, quantize_metadata(*src, s.scheme));
  std::vector<std::string> seen;
  const std::vector<LayerReport> rows =
      write_quantized(pipeline, writer, [&](const QuantizedRecord& r) { seen.push_back(r.layer.name); });
  const ReportTotals totals = finish_quantized(writer, rows);
  EXPECT_FALSE(std::filesystem::exists(path));  // finished, not committed
  ASSERT_TRUE(std::filesystem::exists(writer.temp_path()));

  const XfpReader file(writer.temp_path());
  ASSERT_EQ(file.records().size(), direct.size());
  std::vector<std::string> layer_names;
  uint64_t record_bytes = 0, elements = 0, stored = 0;
  size_t row = 0;
  for (size_t i = 0; i < direct.size(); ++i) {
    const XfpRecordInfo& e = file.records()[i];
    SCOPED_TRACE(e.name);
    EXPECT_EQ(e.kind, direct[i].kind);
    EXPECT_EQ(e.name, record_name(direct[i]));
    if (e.kind == XfpRecordKind::kAlias) continue;
    record_bytes += e.length;
    if (e.kind != XfpRecordKind::kLayer) continue;
    layer_names.push_back(e.name);
    EXPECT_EQ(decoded(file.read_layer(i)), decoded(direct[i].layer));
    ASSERT_LT(row, rows.size());
    EXPECT_EQ(rows[row].name, e.name);
    EXPECT_EQ(rows[row].stored_bits, direct[i].report.stored_bits);
    EXPECT_EQ(rows[row].quality.cos_min, direct[i].report.quality.cos_min);
    elements += uint64_t(e.rows) * e.cols;
    stored += rows[row++].stored_bits;
  }
  EXPECT_EQ(row, rows.size());
  EXPECT_EQ(seen, layer_names);
  // Everything in the file outside layer and kept records is overhead.
  const uint64_t overhead = std::filesystem::file_size(writer.temp_path()) - record_bytes;
  EXPECT_EQ(totals.elements, elements);
  EXPECT_EQ(totals.stored_bits, stored + 8 * overhead);
  EXPECT_DOUBLE_EQ(totals.bpw, double(stored + 8 * overhead) / double(elements));

  writer.commit();
  EXPECT_EQ(read_xfp(path).layers.size(), layer_names.size());
}

TEST(QuantizeToXfp, FatesJsonHasEveryFieldAndTheOptionalOnesOnlyWhenSet) {
  std::mt19937_64 rng(fresh_seed());
  const int64_t expert = int64_t(rng() % 64);
  std::vector<TensorPlan> plan(3);
  plan[0] = {"a.weight", "a.weight", -1, {4, 8}, "F32", TensorFate::kQuantize, "2-D float", "", false};
  plan[1] = {"x.experts.gate.E", "x.experts.gate", expert, {2, 3}, "BF16", TensorFate::kQuantize, "slice", "", true};
  plan[2] = {"lm_head.weight", "lm_head.weight", -1, {4, 8}, "F16", TensorFate::kAlias, "tied", "a.weight", false};
  const nlohmann::json want = nlohmann::json::parse(R"([
    {"name": "a.weight", "source": "a.weight", "fate": "quantized", "dtype": "F32", "shape": [4, 8],
     "reason": "2-D float"},
    {"name": "x.experts.gate.E", "source": "x.experts.gate", "fate": "quantized", "dtype": "BF16",
     "shape": [2, 3], "reason": "slice", "expert": )" +
                                                    std::to_string(expert) + R"(},
    {"name": "lm_head.weight", "source": "lm_head.weight", "fate": "alias", "dtype": "F16", "shape": [4, 8],
     "reason": "tied", "alias_of": "a.weight"}])");
  EXPECT_EQ(fates_json(plan), want);
}

TEST(QuantizeToXfp, ReportNamesTheRunAndSopItsSelectionMetric) {
  std::mt19937_64 rng(fresh_seed());
  LayerReport row;
  row.name = "w" + std::to_string(rng() % 100);
  row.rows = 1 + uint32_t(rng() % 9);
  row.cols = 1 + uint32_t(rng() % 9);
  row.stored_bits = rng() % 1000;
  const std::vector<LayerReport> rows = {row};
  const ReportTotals totals = total_of(rows);
  std::vector<TensorPlan> plan(1);
  plan[0] = {row.name, row.name, -1, {row.rows, row.cols}, "F32", TensorFate::kQuantize, "2-D float", "", false};
  QuantizeSettings s;
  s.scheme = "int4.g128";
  s.floor_strict = 0.5 + double(rng() % 100) / 1000;
  s.floor_lazy = 0.4 + double(rng() % 100) / 1000;
  nlohmann::json j = quantize_report_json(rows, totals, s, "in.safetensors", "out.xfp", plan);
  EXPECT_EQ(j.at("input"), "in.safetensors");
  EXPECT_EQ(j.at("output"), "out.xfp");
  EXPECT_EQ(j.at("scheme"), "int4.g128");
  EXPECT_EQ(j.at("floor_strict").get<double>(), s.floor_strict);
  EXPECT_EQ(j.at("floor_lazy").get<double>(), s.floor_lazy);
  EXPECT_EQ(j.at("tensors").size(), 1u);
  EXPECT_EQ(j.at("tensors")[0].at("name"), row.name);
  EXPECT_EQ(j.at("layers").size(), 1u);
  EXPECT_FALSE(j.contains("selection_metric"));
  EXPECT_FALSE(j.contains("sop_format"));

  s.scheme = "sop";
  s.sop_format = "e2m3.ue4m4.b16";
  s.budget_bpw = double(rng() % 80) / 10;
  j = quantize_report_json(rows, totals, s, "in.safetensors", "out.xfp", plan);
  EXPECT_EQ(j.at("sop_format"), "e2m3.ue4m4.b16");
  EXPECT_EQ(j.at("budget_bpw").get<double>(), s.budget_bpw);
  EXPECT_EQ(j.at("selection_metric"), "cosine");
  s.act_stats = "stats.safetensors";
  EXPECT_EQ(quantize_report_json(rows, totals, s, "i", "o", plan).at("selection_metric"), "acos");
}

}  // namespace
}  // namespace lutc

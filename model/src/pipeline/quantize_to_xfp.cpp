// quantize's records into an .xfp and its report; the flags, progress and
// printing stay with `lutc quantize`.
#include "lutc/model/quantize_to_xfp.h"

#include <utility>

namespace lutc {

std::vector<LayerReport> write_quantized(const QuantizePipeline& pipeline, XfpWriter& writer,
                                         const std::function<void(const QuantizedRecord&)>& on_layer) {
  std::vector<LayerReport> rows;
  pipeline.run([&](QuantizedRecord&& r) {
    if (r.kind == XfpRecordKind::kAlias) return writer.append_alias(r.alias);
    if (r.kind == XfpRecordKind::kKept) return writer.append_kept(r.kept);
    if (on_layer) on_layer(r);
    writer.append(r.layer);
    rows.push_back(std::move(r.report));
  });
  return rows;
}

ReportTotals finish_quantized(XfpWriter& writer, const std::vector<LayerReport>& rows) {
  writer.finish();
  return total_of(rows, 8 * XfpReader(writer.temp_path()).overhead_bytes());
}

nlohmann::json fates_json(const std::vector<TensorPlan>& plan) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& p : plan) {
    nlohmann::json j = {{"name", p.name},   {"source", p.source}, {"fate", fate_name(p.fate)},
                        {"dtype", p.dtype}, {"shape", p.shape},   {"reason", p.reason}};
    if (p.expert >= 0) j["expert"] = p.expert;
    if (!p.alias_of.empty()) j["alias_of"] = p.alias_of;
    arr.push_back(std::move(j));
  }
  return arr;
}

nlohmann::json quantize_report_json(const std::vector<LayerReport>& rows, const ReportTotals& totals,
                                    const QuantizeSettings& s, const std::string& input, const std::string& output,
                                    const std::vector<TensorPlan>& plan) {
  nlohmann::json j = report_json(rows, totals);
  j["input"] = input;
  j["output"] = output;
  j["scheme"] = s.scheme;
  j["floor_strict"] = s.floor_strict;
  j["floor_lazy"] = s.floor_lazy;
  j["tensors"] = fates_json(plan);
  if (s.scheme == "sop") {
    j["sop_format"] = s.sop_format;
    j["budget_bpw"] = s.budget_bpw;
    j["selection_metric"] = s.act_stats.empty() ? "cosine" : "acos";
  }
  return j;
}

}  // namespace lutc

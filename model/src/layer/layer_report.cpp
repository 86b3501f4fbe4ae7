#include "lutc/model/layer_report.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>

#include "lutc/model/golden.h"
#include "lutc/model/xfp_file.h"

namespace lutc {

namespace {

// The stored facts a report row shows, wherever they were read from.
LayerReport stored_facts(const std::string& name, Role role, uint32_t rows, uint32_t cols, Scheme scheme, unsigned bits,
                         uint32_t group, uint64_t outliers, uint64_t stored) {
  LayerReport r;
  r.name = name;
  r.role = role_name(role);
  r.rows = rows;
  r.cols = cols;
  r.scheme = scheme_name(scheme);
  r.bits = bits;
  r.group = group;
  r.outliers = outliers;
  r.stored_bits = stored;
  r.bpw = double(stored) / (double(rows) * double(cols));
  return r;
}

}  // namespace

LayerReport describe_layer(const QuantizedLayer& layer) {
  return stored_facts(layer.name, layer.role, layer.rows, layer.cols, layer.scheme, layer.bits, layer.group,
                      layer.outliers.count(), stored_bits(layer));
}

LayerReport describe_record(const XfpRecordInfo& e) {
  return stored_facts(e.name, e.role, e.rows, e.cols, e.scheme, e.bits, e.group, e.outliers, e.stored_bits());
}

double recorded_floor(const QuantizedLayer& l) {
  // Only a floor search ("auto") aims at the floor; a fixed width records the
  // option's value without having tried to reach it.
  const auto search = l.params.find("search");
  const auto floor = l.params.find("floor");
  if (search == l.params.end() || search->second != "auto" || floor == l.params.end()) return 0;
  try {
    return std::stod(floor->second);
  } catch (const std::exception&) {
    return 0;  // free-form provenance: unparsable means not recorded
  }
}

void add_recorded_facts(LayerReport& r, const QuantizedLayer& l) {
  r.has_recorded = true;
  r.floor = recorded_floor(l);
  const auto met = l.params.find("floor_met");
  r.floor_met = met == l.params.end() || met->second != "0";
  const auto cos = l.params.find("cos_min");
  if (cos != l.params.end()) {
    try {
      r.recorded_cos_min = std::stod(cos->second);
    } catch (const std::exception&) {
    }
  }
}

void add_quality(LayerReport& r, const float* w, const float* w_hat, double floor) {
  r.has_quality = true;
  r.quality = measure_quality(w, w_hat, r.rows, r.cols, floor);
  r.floor = floor;
  r.floor_met = r.quality.rows_below_floor == 0;
}

void add_quality(LayerReport& r, const float* w, const QuantizedLayer& layer, double floor) {
  // 64 KiB of decoded rows per block: stays in cache between the decode and
  // the metrics pass.
  const uint32_t block = std::max<uint32_t>(1, 16384 / std::max<uint32_t>(1, layer.cols));
  std::vector<float> buf(size_t(block) * layer.cols);
  QualityAccumulator acc(layer.cols, floor);
  for (uint32_t r0 = 0; r0 < layer.rows; r0 += block) {
    const uint32_t n = std::min(block, layer.rows - r0);
    golden_decode_rows(layer, r0, n, buf.data());
    acc.add_rows(w + size_t(r0) * layer.cols, buf.data(), n);
  }
  r.has_quality = true;
  r.quality = acc.finish();
  r.floor = floor;
  r.floor_met = r.quality.rows_below_floor == 0;
}

ReportTotals total_of(const std::vector<LayerReport>& rows, uint64_t extra_header_bits) {
  ReportTotals t;
  double sig = 0, err = 0;
  for (const auto& r : rows) {
    t.elements += uint64_t(r.rows) * r.cols;
    t.stored_bits += r.stored_bits;
    t.outliers += r.outliers;
    if (!r.has_quality) continue;
    sig += r.quality.signal;
    err += r.quality.error;
    t.cos_min = std::min(t.cos_min, r.quality.cos_min);
    t.floors_missed += r.floor_met ? 0 : 1;
    t.dead_rows += r.quality.dead_rows;
    t.tiny_rows += r.quality.tiny_rows;
  }
  t.stored_bits += extra_header_bits;
  t.bpw = t.elements ? double(t.stored_bits) / double(t.elements) : 0;
  t.sqnr_db = err > 0 ? 10 * std::log10(sig / err) : INFINITY;
  return t;
}

namespace {
std::string shape_of(const LayerReport& r) { return std::to_string(r.rows) + "x" + std::to_string(r.cols); }
}  // namespace

void print_report_table(std::FILE* out, const std::vector<LayerReport>& rows, const ReportTotals& totals) {
  size_t wname = 5;
  for (const auto& r : rows) wname = std::max(wname, r.name.size());
  wname = std::min<size_t>(wname, 56);
  std::fprintf(out, "%-*s %-13s %-11s %-9s %4s %8s %7s %8s %9s %9s %s\n", int(wname), "layer", "role", "shape",
               "scheme", "bits", "outlier%", "bpw", "SQNR dB", "cos min", "cos mean", "floor");
  for (const auto& r : rows) {
    std::string name = r.name.size() > wname ? "..." + r.name.substr(r.name.size() - wname + 3) : r.name;
    std::fprintf(out, "%-*s %-13s %-11s %-9s %4u %8.3f %7.3f", int(wname), name.c_str(), r.role.c_str(),
                 shape_of(r).c_str(), r.scheme.c_str(), r.bits, 100.0 * double(r.outliers) / (double(r.rows) * r.cols),
                 r.bpw);
    if (!r.has_quality) {
      // No reference: SQNR and cos mean are unknown; cos min and the floor
      // are what the quantizer recorded, when it did.
      std::fprintf(out, " %8s", "-");
      if (std::isfinite(r.recorded_cos_min))
        std::fprintf(out, " %9.5f", r.recorded_cos_min);
      else
        std::fprintf(out, " %9s", "-");
      std::fprintf(out, " %9s", "-");
      if (r.floor > 0)
        std::fprintf(out, " %.4f %s", r.floor, r.floor_met ? "met" : "MISSED");
      else
        std::fprintf(out, " -");
    } else {
      std::fprintf(out, " %8.2f %9.5f %9.5f", r.quality.sqnr_db, r.quality.cos_min, r.quality.cos_mean);
      if (r.floor > 0) {
        std::fprintf(out, " %.4f %s", r.floor, r.floor_met ? "met" : "MISSED");
        if (!r.floor_met)
          std::fprintf(out, " (%u rows below, worst row %u)", r.quality.rows_below_floor, r.quality.worst_row);
      }
      if (r.quality.dead_rows) std::fprintf(out, " [%u dead rows]", r.quality.dead_rows);
      if (r.quality.tiny_rows) std::fprintf(out, " [%u tiny rows]", r.quality.tiny_rows);
    }
    std::fputc('\n', out);
  }
  std::fprintf(
      out, "total: %zu layers, %llu weights, %.4f effective bpw (%llu stored bits, headers included), %llu outliers",
      rows.size(), static_cast<unsigned long long>(totals.elements), totals.bpw,
      static_cast<unsigned long long>(totals.stored_bits), static_cast<unsigned long long>(totals.outliers));
  if (!rows.empty() && rows.front().has_quality)
    std::fprintf(out, ", SQNR %.2f dB, cos min %.5f, floors missed %u", totals.sqnr_db, totals.cos_min,
                 totals.floors_missed);
  std::fputc('\n', out);
}

nlohmann::json report_json(const std::vector<LayerReport>& rows, const ReportTotals& totals) {
  auto finite = [](double v) -> nlohmann::json {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  };
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json j = {{"name", r.name},   {"role", r.role},         {"rows", r.rows},
                        {"cols", r.cols},   {"scheme", r.scheme},     {"bits", r.bits},
                        {"group", r.group}, {"outliers", r.outliers}, {"stored_bits", r.stored_bits},
                        {"bpw", r.bpw}};
    if (r.has_quality) {
      j["sqnr_db"] = finite(r.quality.sqnr_db);
      j["nmse"] = finite(r.quality.nmse);
      j["cos_min"] = r.quality.cos_min;
      j["cos_mean"] = r.quality.cos_mean;
      j["worst_row"] = r.quality.worst_row;
      j["live_rows"] = r.quality.live_rows;
      j["dead_rows"] = r.quality.dead_rows;
      j["tiny_rows"] = r.quality.tiny_rows;
      // null: no floor applied (none given, none recorded), nothing to meet.
      j["floor"] = r.floor > 0 ? nlohmann::json(r.floor) : nlohmann::json(nullptr);
      j["floor_met"] = r.floor > 0 ? nlohmann::json(r.floor_met) : nlohmann::json(nullptr);
      j["rows_below_floor"] = r.quality.rows_below_floor;
    } else if (r.has_recorded) {
      j["recorded"] = {{"floor", r.floor > 0 ? nlohmann::json(r.floor) : nlohmann::json(nullptr)},
                       {"floor_met", r.floor > 0 ? nlohmann::json(r.floor_met) : nlohmann::json(nullptr)},
                       {"cos_min", finite(r.recorded_cos_min)}};
    }
    layers.push_back(std::move(j));
  }
  nlohmann::json t = {{"layers", rows.size()},
                      {"elements", totals.elements},
                      {"stored_bits", totals.stored_bits},
                      {"bpw", totals.bpw},
                      {"outliers", totals.outliers}};
  if (!rows.empty() && rows.front().has_quality) {
    t["sqnr_db"] = finite(totals.sqnr_db);
    t["cos_min"] = totals.cos_min;
    t["floors_missed"] = totals.floors_missed;
    t["dead_rows"] = totals.dead_rows;
    t["tiny_rows"] = totals.tiny_rows;
  }
  return {{"layers", layers}, {"total", t}};
}

}  // namespace lutc

#pragma once
// One row of every quantization report (quantize, eval, info): what was stored
// and how well it reconstructs. Printed as a table and written as JSON with the
// same keys, documented in docs/reports.md.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lutc/model/layer.h"
#include "lutc/model/metrics.h"

namespace lutc {

struct XfpRecordInfo;

struct LayerReport {
  std::string name;
  std::string role;
  uint32_t rows = 0, cols = 0;
  std::string scheme;
  unsigned bits = 0;
  uint32_t group = 0;
  uint64_t outliers = 0;
  uint64_t stored_bits = 0;
  double bpw = 0;
  bool has_quality = false;  // false for `info` (no reference to compare against)
  QualityStats quality;
  double floor = 0;  // 0: no floor applied (JSON null)
  bool floor_met = true;
  // What the quantizer recorded in the layer (its params), shown where no
  // reference is at hand (`info`): the floor it searched for and whether it
  // met it, and the worst row's cosine. recorded_cos_min is NaN when absent.
  bool has_recorded = false;
  double recorded_cos_min = std::nan("");
};

// Stored facts of a layer (no quality).
LayerReport describe_layer(const QuantizedLayer& layer);
// The same from an .xfp index entry alone (the layer is not read).
LayerReport describe_record(const XfpRecordInfo& entry);
// The floor the quantizer searched for, from the layer's params: 0 when it
// applied none (fixed-width XFP, SOP, the baselines).
double recorded_floor(const QuantizedLayer& layer);
// Fills the recorded floor, floor_met and cos_min from the layer's params.
void add_recorded_facts(LayerReport& r, const QuantizedLayer& layer);
// Adds quality from the original weights and the golden decode.
void add_quality(LayerReport& r, const float* w, const float* w_hat, double floor);
// The same from the layer itself: golden-decodes a few rows at a time into a
// small buffer (no decoded copy of the whole matrix).
void add_quality(LayerReport& r, const float* w, const QuantizedLayer& layer, double floor);

struct ReportTotals {
  uint64_t elements = 0, stored_bits = 0, outliers = 0;
  double bpw = 0;      // all layers, file header amortized when given
  double sqnr_db = 0;  // over all elements of all layers
  double cos_min = 1;
  uint32_t floors_missed = 0, dead_rows = 0, tiny_rows = 0;
};
ReportTotals total_of(const std::vector<LayerReport>& rows, uint64_t extra_header_bits = 0);

void print_report_table(std::FILE* out, const std::vector<LayerReport>& rows, const ReportTotals& totals);
nlohmann::json report_json(const std::vector<LayerReport>& rows, const ReportTotals& totals);

}  // namespace lutc

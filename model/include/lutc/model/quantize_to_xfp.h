#pragma once
// A whole quantize run into an .xfp, as `lutc quantize` makes it: every
// record of the pipeline streamed into an XfpWriter in input order, the
// totals of the layer reports with the file's own overhead, and the
// --report document.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lutc/model/layer_report.h"
#include "lutc/model/quantize_pipeline.h"
#include "lutc/model/tensor_fates.h"
#include "lutc/model/xfp_file.h"

namespace lutc {

// Runs `pipeline` into `writer`: quantized layers, kept tensors and aliases in
// input order. `on_layer` (may be empty) sees each quantized layer just
// before it is appended, on the calling thread. Returns the layers' report
// rows in input order. The writer is neither finished nor committed.
std::vector<LayerReport> write_quantized(const QuantizePipeline& pipeline, XfpWriter& writer,
                                         const std::function<void(const QuantizedRecord&)>& on_layer = {});

// Finishes `writer` (complete under its temp path, not yet renamed into
// place) and totals `rows` with the file's header, aliases, index and
// trailer amortized over the layers, as `lutc info` counts them.
ReportTotals finish_quantized(XfpWriter& writer, const std::vector<LayerReport>& rows);

// One object per plan row: name, source, fate, dtype, shape and reason, with
// expert and alias_of when they apply.
nlohmann::json fates_json(const std::vector<TensorPlan>& plan);

// The --report document: report_json() of the rows, the input and output
// names, scheme and floors, every tensor's fate and, for SOP, the format,
// the bpw budget and the selection metric (acos with --act-stats, else cosine).
nlohmann::json quantize_report_json(const std::vector<LayerReport>& rows, const ReportTotals& totals,
                                    const QuantizeSettings& s, const std::string& input, const std::string& output,
                                    const std::vector<TensorPlan>& plan);

}  // namespace lutc

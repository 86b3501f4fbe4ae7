#pragma once
// quantize between its input and its .xfp, as a library: the settings (the
// `lutc quantize` flags), one quantizer per matrix with its quality report,
// and every record of the output in input order, quantized on a pool of
// threads. `lutc quantize` streams the records into an XfpWriter; the Python
// package keeps them in memory. Both therefore write the same bytes.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lutc/model/layer.h"
#include "lutc/model/layer_report.h"
#include "lutc/model/matrix_source.h"
#include "lutc/model/quantize_sop.h"
#include "lutc/model/roles.h"
#include "lutc/model/xfp_file.h"

namespace lutc {

// The options of `lutc quantize` that shape the quantized layers (names as the flags).
struct QuantizeSettings {
  std::string scheme = "xfp";  // xfp (auto V2/V2a), xfp.v2, xfp.v2a, sop, int4.g128, nf4.b64, fp8.e4m3
  double floor_strict = 0.99, floor_lazy = 0.98;
  unsigned bits = 0;       // XFP index bits; 0 = chosen per layer by the floors
  unsigned group = 0;      // xfp.v2 group along K; 0 = whole row
  double outliers = -1;    // XFP outlier fraction; <0 = searched
  std::string sop_format;  // SOP format or candidate list (with budget_bpw)
  double budget_bpw = 0;
  std::string act_stats;                    // SOP: safetensors of E[x^2] per input column
  std::vector<std::string> role_overrides;  // REGEX=ROLE
  unsigned threads = 0;                     // 0 = all cores; the output does not depend on it
  double max_memory_gb = 1.5;
};

// Ranges and combinations of the settings: Error(kUsage) naming the flag.
void check_quantize_settings(const QuantizeSettings& s);

// The model's name for its folder, index file, single file or shard, so the
// .xfp does not depend on how the model was laid out on disk.
std::string model_name(const std::string& spec);
// The .xfp metadata quantize writes: source, scheme, producer.
std::map<std::string, std::string> quantize_metadata(const MatrixSource& src, const std::string& scheme);

// One output record, in input order.
struct QuantizedRecord {
  XfpRecordKind kind = XfpRecordKind::kLayer;
  QuantizedLayer layer;  // kLayer
  LayerReport report;    // kLayer: stored facts and quality against the input
  std::string log;       // kLayer: per-layer lines the scheme prints (SOP)
  KeptTensor kept;       // kKept
  XfpAlias alias;        // kAlias
};

class QuantizePipeline {
 public:
  // Checks the settings and that the source has a matrix (Error(kBadInput)), reads --act-stats and plans --budget-bpw;
  // `log` gets the lines the CLI prints before the layers (selection metric, knapsack).
  QuantizePipeline(const QuantizeSettings& settings, const MatrixSource& src, std::string* log);

  // Quantizes every matrix (on settings.threads threads, as many side by side
  // as max_memory_gb allows) and hands each record to `sink` on the calling
  // thread in input order: quantized layers, kept tensors and aliases as the
  // source's plan orders them.
  void run(const std::function<void(QuantizedRecord&&)>& sink) const;

  // One matrix: its layer and report (quality and floor included).
  QuantizedRecord quantize(const MatrixEntry& m) const;

 private:
  QuantizeSettings s_;
  const MatrixSource& src_;
  RoleRules rules_;
  SopContext sop_;
  unsigned threads_ = 1;
};

}  // namespace lutc

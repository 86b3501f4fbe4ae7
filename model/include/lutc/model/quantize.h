#pragma once
// Quantizers: one entry point per scheme family, all producing a
// QuantizedLayer from an fp32 row-major matrix.
#include <cstdint>
#include <string>
#include <vector>

#include "lutc/model/layer.h"
#include "lutc/model/metrics.h"

namespace lutc {

struct XfpOptions {
  // kXfpV2 or kXfpV2a, or both (auto_mode) to let the search pick per layer.
  Scheme mode = Scheme::kXfpV2;
  bool auto_mode = false;
  unsigned bits = 0;             // 0: auto-select; else fixed b in {2,3,4,5,6,8}
  unsigned max_bits = 8;         // auto-select considers b <= max_bits only
  uint32_t group = 0;            // xfp.v2 group along K; 0 = whole row (v2a always uses 128)
  double floor_strict = 0.99;    // per-row cosine floor for strict roles
  double floor_lazy = 0.98;      // per-row cosine floor for lazy roles (routed experts)
  double outlier_fraction = -1;  // <0: searched; else fixed fraction of elements kept as fp16
  unsigned lloyd_iters = 0;      // 0: the documented default
  unsigned threads = 1;          // rows are split over this many std::threads
};

// What the search chose and why; reported per layer.
struct XfpChoice {
  Scheme mode = Scheme::kXfpV2;
  unsigned bits = 0;
  double outlier_fraction = 0;  // stored outliers / elements
  double floor = 0;             // the floor this layer had to meet (0 when bits fixed)
  bool floor_met = true;        // every live row >= floor
  double shortfall = 0;         // floor - cos_min when missed
  unsigned configs_tried = 0;
};

QuantizedLayer quantize_xfp(const std::string& name, Role role, const float* w, uint32_t rows, uint32_t cols,
                            const XfpOptions& opt, XfpChoice* choice = nullptr);

// int4.g128, nf4.b64, fp8.e4m3 (DESIGN.md §2).
QuantizedLayer quantize_baseline(Scheme scheme, const std::string& name, Role role, const float* w, uint32_t rows,
                                 uint32_t cols);

bool is_baseline(Scheme s);
bool is_xfp(Scheme s);

}  // namespace lutc

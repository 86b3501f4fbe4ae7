#pragma once
// The synthetic layer `lutc bench --synthetic NxK` and `lutc gpu-bench
// --synthetic NxK` time: a seeded LLM-shaped matrix quantized to the asked
// scheme (no outliers for xfp, so the dense loop is what is measured).
#include <cstdint>
#include <string>

#include "lutc/model/layer.h"

namespace lutc::cli {

// "11008x4096" -> rows 11008, cols 4096; kUsage naming --synthetic otherwise.
void parse_bench_shape(const std::string& s, uint32_t* rows, uint32_t* cols);

QuantizedLayer synthetic_bench_layer(const std::string& shape, Scheme scheme, unsigned bits, uint32_t group,
                                     const std::string& sop_format);

}  // namespace lutc::cli

#pragma once
// The schemes the kernel tests run over: model/'s decodable list plus sop
// (random sop layers come from model/layer_samples.h), and quantized sop
// layers from format strings.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "lutc/model/fp16.h"
#include "lutc/model/sop.h"
#include "model/layer_samples.h"

namespace lutc::testing {

constexpr Scheme kKernelSchemes[] = {Scheme::kXfpV2,  Scheme::kXfpV2a,  Scheme::kInt4G128,
                                     Scheme::kNf4B64, Scheme::kFp8E4M3, Scheme::kSop};

// Formats the quantized-weight tests take sop through: the two documented
// single-codebook points, a paired signed format with a learned codebook and
// outliers, the smallest and largest blocks, and 6-bit codes in both book
// shapes the exact kernels tell apart (FP6 E2M3 sign-symmetric, INT6 not).
inline const std::vector<std::string>& sop_test_formats() {
  static const std::vector<std::string> f = {"e2m1.ue4m3.b16", "e2m3.ue4m4.b16",       "pair(nf4,dd4).sue4m4.b16+o1",
                                             "nf4.ue4m2.b8",   "int4.sue4m4.b64+o0.5", "e2m3.ue4m4.b8",
                                             "e2m3.ue4m4.b64", "int6.ue4m4.b16"};
  return f;
}

inline QuantizedLayer sop_layer(const std::string& format, const std::string& name, const float* w, uint32_t rows,
                                uint32_t cols) {
  SopOptions o;
  o.format = parse_sop_format(format);
  return quantize_sop(name, Role::kOther, w, rows, cols, o);
}

inline QuantizedLayer random_kernel_layer(Scheme s, std::mt19937_64& rng, SampleOptions o = {}) {
  return random_any_layer(s, rng, o);
}

inline std::string scheme_label(const ::testing::TestParamInfo<Scheme>& info) {
  std::string s = scheme_name(info.param);
  for (auto& c : s)
    if (c == '.') c = '_';
  return s;
}

}  // namespace lutc::testing

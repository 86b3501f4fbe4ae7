#pragma once
// The schemes the kernel tests run over: model/'s decodable list plus sop,
// with random sop layers built here (every block size, 4- and 6-bit codes,
// UE4M2..4 scales, signed and paired scale codes, layer exponents that reach
// fp32 subnormal products) and quantized sop layers from format strings.
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
  static const std::vector<std::string> f = {"e2m1.ue4m3.b16", "e2m3.ue4m4.b16", "pair(nf4,dd4).sue4m4.b16+o1",
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

inline QuantizedLayer random_sop_layer(std::mt19937_64& rng, const SampleOptions& o) {
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  // Borrow the shape, name, codes and outliers of a 4- or 6-bit xfp.v2 layer.
  SampleOptions base = o;
  base.bits = o.bits == 4 || o.bits == 6 ? o.bits : (uni(0, 1) ? 4 : 6);
  QuantizedLayer l = random_layer(Scheme::kXfpV2, rng, base);
  const unsigned entries = 1u << l.bits;
  const uint32_t blocks[] = {8, 16, 32, 64};
  l.scheme = Scheme::kSop;
  l.group = blocks[uni(0, 3)];
  l.sop_scale_mant_bits = uint8_t(uni(2, 4));
  l.sop_scale_signed = uni(0, 1);
  l.sop_paired = uni(0, 1);
  l.layer_scale_exp = uni(-100, 60);  // the low end gives subnormal products; the high end stays finite
  l.codebooks.resize((l.sop_paired ? 2 : 1) * entries);
  for (auto& h : l.codebooks) h = random_finite_half(rng);
  // Half the 6-bit layers get sign-symmetric books (entry c + 32 = -entry c, as FP6 E2M3's), which the
  // exact AVX-512 kernel serves with half-size tables.
  if (l.bits == 6 && uni(0, 1))
    for (size_t b = 0; b < l.codebooks.size(); b += entries)
      for (unsigned c = 0; c < 32; ++c) l.codebooks[b + c + 32] = uint16_t(l.codebooks[b + c] ^ 0x8000);
  l.block_scales.resize(size_t(l.rows) * l.groups_per_row());
  for (auto& c : l.block_scales) c = uint16_t(rng() & ((1u << l.sop_scale_code_bits()) - 1));
  return l;
}

inline QuantizedLayer random_kernel_layer(Scheme s, std::mt19937_64& rng, SampleOptions o = {}) {
  return s == Scheme::kSop ? random_sop_layer(rng, o) : random_layer(s, rng, o);
}

inline std::string scheme_label(const ::testing::TestParamInfo<Scheme>& info) {
  std::string s = scheme_name(info.param);
  for (auto& c : s)
    if (c == '.') c = '_';
  return s;
}

}  // namespace lutc::testing

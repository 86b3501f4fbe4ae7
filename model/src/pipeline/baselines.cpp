// The baseline quantizers (docs/numerics.md "Baselines"): plain, well-known
// methods stored in the same container so every report compares like with like.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "lutc/model/bitpack.h"
#include "lutc/model/element_formats.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/quantize.h"

namespace lutc {
namespace {

// An fp16 scale that never rounds to infinity: clipping the largest values
// beats turning a whole group into NaN/Inf.
uint16_t finite_half(double v) { return float_to_half(float(std::min(v, double(kHalfMax)))); }

void quantize_int4(QuantizedLayer& l, const float* w, std::vector<uint8_t>& q) {
  l.bits = 4;
  l.group = 128;
  const uint32_t gpr = l.groups_per_row();
  l.group_scales.resize(size_t(l.rows) * gpr);
  l.group_zeros.resize(size_t(l.rows) * gpr);
  for (uint32_t r = 0; r < l.rows; ++r) {
    for (uint32_t g = 0; g < gpr; ++g) {
      const uint32_t k0 = g * l.group, k1 = std::min(k0 + l.group, l.cols);
      const float* x = w + size_t(r) * l.cols;
      // The range always contains 0 so that the zero point is an integer in
      // 0..15 and an exact 0 decodes to exactly 0.
      double lo = 0, hi = 0;
      for (uint32_t k = k0; k < k1; ++k) {
        lo = std::min(lo, double(x[k]));
        hi = std::max(hi, double(x[k]));
      }
      const uint16_t sh = finite_half((hi - lo) / 15.0);
      const double s = half_to_float(sh);
      double z = 0;
      if (s > 0) z = std::min(15.0, std::max(0.0, std::nearbyint(-lo / s)));
      const size_t gi = size_t(r) * gpr + g;
      l.group_scales[gi] = sh;
      l.group_zeros[gi] = float_to_half(float(z));
      for (uint32_t k = k0; k < k1; ++k) {
        const double c = s > 0 ? std::nearbyint(x[k] / s + z) : z;
        q[size_t(r) * l.cols + k] = uint8_t(std::min(15.0, std::max(0.0, c)));
      }
    }
  }
}

void quantize_nf4(QuantizedLayer& l, const float* w, std::vector<uint8_t>& q) {
  l.bits = 4;
  l.group = 64;
  l.codebooks.resize(16);
  float level[16];
  for (unsigned i = 0; i < 16; ++i) {
    l.codebooks[i] = nf4_level_fp16(i);
    level[i] = half_to_float(l.codebooks[i]);
  }
  const uint32_t gpr = l.groups_per_row();
  l.group_scales.resize(size_t(l.rows) * gpr);
  for (uint32_t r = 0; r < l.rows; ++r) {
    const float* x = w + size_t(r) * l.cols;
    for (uint32_t g = 0; g < gpr; ++g) {
      const uint32_t k0 = g * l.group, k1 = std::min(k0 + l.group, l.cols);
      float amax = 0;
      for (uint32_t k = k0; k < k1; ++k) amax = std::max(amax, std::fabs(x[k]));
      // Nearest fp16, not rounded up: a clip of the block maximum by at most
      // half an fp16 ulp (2^-12 relative) is far below the NF4 step.
      const uint16_t sh = finite_half(amax);
      l.group_scales[size_t(r) * gpr + g] = sh;
      const float s = half_to_float(sh);
      for (uint32_t k = k0; k < k1; ++k) {
        // Nearest decoded value (the exact fp32 product the decoder forms);
        // ties go to the lower level.
        unsigned best = 7;
        double best_err = std::fabs(double(x[k]));
        for (unsigned i = 0; i < 16; ++i) {
          const double err = std::fabs(double(x[k]) - double(level[i] * s));
          if (err < best_err) {
            best_err = err;
            best = i;
          }
        }
        q[size_t(r) * l.cols + k] = uint8_t(best);
      }
    }
  }
}

void quantize_fp8(QuantizedLayer& l, const float* w, std::vector<uint8_t>& q) {
  l.bits = 8;
  l.group = 0;
  double amax = 0;
  for (uint64_t i = 0; i < l.elements(); ++i) amax = std::max(amax, double(std::fabs(w[i])));
  // The smallest power of two that brings the layer maximum to <= 448.
  int e = 0;
  if (amax > 0) {
    e = int(std::ceil(std::log2(amax / 448.0)));
    while (std::ldexp(amax, -e) > 448.0) ++e;
    while (std::ldexp(amax, -(e - 1)) <= 448.0) --e;
  }
  l.layer_scale_exp = e;
  for (uint64_t i = 0; i < l.elements(); ++i) q[i] = double_to_e4m3(std::ldexp(double(w[i]), -e));
}

}  // namespace

bool is_baseline(Scheme s) { return s == Scheme::kInt4G128 || s == Scheme::kNf4B64 || s == Scheme::kFp8E4M3; }
bool is_xfp(Scheme s) { return s == Scheme::kXfpV2 || s == Scheme::kXfpV2a; }

QuantizedLayer quantize_baseline(Scheme scheme, const std::string& name, Role role, const float* w, uint32_t rows,
                                 uint32_t cols) {
  if (!is_baseline(scheme))
    throw Error(ExitCode::kUsage,
                std::string("scheme ") + scheme_name(scheme) + " is not a baseline (int4.g128, nf4.b64, fp8.e4m3)");
  if (rows == 0 || cols == 0) fail_input("", name, -1, "empty matrix");
  for (uint64_t i = 0; i < uint64_t(rows) * cols; ++i)
    if (!std::isfinite(w[i]))
      fail_input(
          "", name, -1,
          "weight at row " + std::to_string(i / cols) + ", column " + std::to_string(i % cols) + " is not finite");
  QuantizedLayer l;
  l.name = name;
  l.role = role;
  l.rows = rows;
  l.cols = cols;
  l.scheme = scheme;
  std::vector<uint8_t> q(size_t(l.elements()));
  if (scheme == Scheme::kInt4G128) quantize_int4(l, w, q);
  if (scheme == Scheme::kNf4B64) quantize_nf4(l, w, q);
  if (scheme == Scheme::kFp8E4M3) quantize_fp8(l, w, q);
  l.indices.resize(packed_bytes(l.elements(), l.bits));
  pack_indices(q.data(), l.elements(), l.bits, l.indices.data());
  validate(l);
  return l;
}

}  // namespace lutc

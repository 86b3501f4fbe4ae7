#pragma once
// Shared checks for the kernel tests: bitwise comparison that reports the
// first difference, NaN-poisoned outputs, the fp64 reference, NMSE and a
// rigorous per-output error bound for fp32 summation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "lutc/kernels/cpu/gemv.h"
#include "lutc/model/fp16.h"
#include "lutc/model/golden.h"
#include "lutc/model/quantize.h"
#include "lutc/model/synth.h"

namespace lutc::testing {

inline std::vector<kernels::Isa> available_isas() {
  std::vector<kernels::Isa> v;
  for (auto i : {kernels::Isa::kPortable, kernels::Isa::kAvx2, kernels::Isa::kAvx512})
    if (kernels::isa_available(i)) v.push_back(i);
  return v;
}

// Seeded LLM-shaped weights (synth_matrix) quantized by scheme s: 4-bit,
// groups of 128, 0.5 % outliers for the xfp schemes.
inline QuantizedLayer realistic_layer(Scheme s, uint32_t rows, uint32_t cols, uint64_t seed) {
  SynthSpec spec;
  spec.rows = rows;
  spec.cols = cols;
  spec.seed = seed;
  const std::vector<float> w = synth_matrix(spec);
  if (is_baseline(s)) return quantize_baseline(s, "synth", Role::kOther, w.data(), rows, cols);
  XfpOptions o;
  o.mode = s;
  o.bits = 4;
  o.group = 128;
  o.outlier_fraction = 0.005;
  return quantize_xfp("synth", Role::kOther, w.data(), rows, cols, o);
}

inline std::vector<float> poisoned(size_t n) { return std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()); }

inline uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline std::string hex_bits(float f) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", bits_of(f));
  return b;
}

// Bitwise equality (NaN == NaN only with the same bits, -0 != +0).
inline ::testing::AssertionResult same_bits(const std::vector<float>& want, const std::vector<float>& got,
                                            uint32_t row_len) {
  if (want.size() != got.size()) return ::testing::AssertionFailure() << "sizes differ";
  for (size_t i = 0; i < want.size(); ++i)
    if (bits_of(want[i]) != bits_of(got[i]))
      return ::testing::AssertionFailure()
             << "first difference at [" << i / row_len << "][" << i % row_len << "]: golden " << want[i] << " ("
             << hex_bits(want[i]) << "), kernel " << got[i] << " (" << hex_bits(got[i]) << ")";
  return ::testing::AssertionSuccess();
}

inline std::vector<float> random_activations(std::mt19937_64& rng, size_t n) {
  std::student_t_distribution<float> t(4.0f);
  std::vector<float> x(n);
  for (auto& v : x) v = t(rng);
  return x;
}

// y = W_hat x in fp64 from the golden decode.
inline std::vector<double> reference_fp64(const QuantizedLayer& l, const std::vector<float>& x, uint32_t batch) {
  std::vector<float> w(size_t(l.rows) * l.cols);
  golden_decode(l, w.data());
  std::vector<double> y(size_t(batch) * l.rows);
  for (uint32_t m = 0; m < batch; ++m)
    for (uint32_t r = 0; r < l.rows; ++r) {
      double s = 0;
      for (uint32_t k = 0; k < l.cols; ++k) s += double(w[size_t(r) * l.cols + k]) * x[size_t(m) * l.cols + k];
      y[size_t(m) * l.rows + r] = s;
    }
  return y;
}

// sum (y - ref)^2 / sum ref^2; +inf when y has a non-finite value.
inline double nmse(const std::vector<double>& ref, const std::vector<float>& y) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(y[i])) return std::numeric_limits<double>::infinity();
    num += (y[i] - ref[i]) * (y[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  return den > 0 ? num / den : num;
}

// |y - ref| <= gamma_d * S per output, where S = sum |terms| of the row and d
// is the depth of the fp32 summation tree that produced y (depth(outliers in
// the row) gives it; any tree over n terms has depth <= n): every fp32
// product and add of the tree is within gamma_d = d u / (1 - d u) of exact
// relative to S (u = 2^-24), plus underflow slack. So the check never fails
// on a correct kernel, whatever the seed or the cancellation, where an NMSE
// threshold can (one row with heavy cancellation). Outlier terms count twice
// in S and add one level: a kernel may add dense x and residual x
// separately where the reference uses their rounded sum. xr are the
// activations as the kernel saw them (rounded), ref = W_hat xr in fp64.
template <class Depth>
::testing::AssertionResult within_summation_bound(const QuantizedLayer& l, const std::vector<float>& w_hat,
                                                  const std::vector<float>& xr, uint32_t batch,
                                                  const std::vector<double>& ref, const std::vector<float>& y,
                                                  Depth depth) {
  const double u = std::ldexp(1.0, -24);
  for (uint32_t m = 0; m < batch; ++m)
    for (uint32_t r = 0; r < l.rows; ++r) {
      const size_t i = size_t(m) * l.rows + r;
      const float* x = xr.data() + size_t(m) * l.cols;
      const float* w = w_hat.data() + size_t(r) * l.cols;
      double sum_abs = 0;
      for (uint32_t k = 0; k < l.cols; ++k) sum_abs += std::fabs(double(w[k]) * x[k]);
      uint32_t outliers = 0;
      if (!l.outliers.row_ptr.empty()) {
        outliers = l.outliers.row_ptr[r + 1] - l.outliers.row_ptr[r];
        for (uint32_t e = l.outliers.row_ptr[r]; e < l.outliers.row_ptr[r + 1]; ++e) {
          const uint32_t c = l.outliers.col[e];
          sum_abs += 2 * std::fabs(double(half_to_float(l.outliers.val[e])) * x[c]) + std::fabs(double(w[c]) * x[c]);
        }
      }
      const double d = double(depth(outliers)) + 2;  // + the products' rounding, + the outliers' rounded sum
      const double bound = d * u / (1 - d * u) * sum_abs + d * std::ldexp(1.0, -149);
      if (!std::isfinite(y[i]) || std::fabs(y[i] - ref[i]) > bound)
        return ::testing::AssertionFailure() << "output " << r << " of vector " << m << ": " << y[i] << " vs fp64 "
                                             << ref[i] << ", error " << std::fabs(y[i] - ref[i]) << " > bound " << bound
                                             << " (depth " << d << ", sum |terms| " << sum_abs << ")";
    }
  return ::testing::AssertionSuccess();
}

}  // namespace lutc::testing

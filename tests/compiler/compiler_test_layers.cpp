#include "compiler_test_layers.h"

#include <cmath>

#include "lutc/model/quantize.h"
#include "lutc/model/sop.h"

namespace lutc::testing {

std::vector<float> random_weights(uint32_t rows, uint32_t cols, std::mt19937_64& rng) {
  std::normal_distribution<float> n(0.0f, 0.02f);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> w(size_t(rows) * cols);
  for (auto& v : w) v = u(rng) < 0.003f ? n(rng) * 40 : n(rng);
  return w;
}

QuantizedLayer quantize_for_test(Scheme scheme, const std::string& name, const float* w, uint32_t rows,
                                 uint32_t cols, uint32_t v2_group) {
  if (is_baseline(scheme)) return quantize_baseline(scheme, name, Role::kOther, w, rows, cols);
  if (scheme == Scheme::kSop) return quantize_sop_for_test(kSopTestFormat, name, w, rows, cols);
  XfpOptions o;
  o.mode = scheme;
  o.bits = 4;
  o.group = v2_group;
  o.outlier_fraction = 0.01;
  return quantize_xfp(name, Role::kOther, w, rows, cols, o);
}

QuantizedLayer quantize_sop_for_test(const std::string& format, const std::string& name, const float* w,
                                     uint32_t rows, uint32_t cols) {
  SopOptions o;
  o.format = parse_sop_format(format);
  return quantize_sop(name, Role::kOther, w, rows, cols, o);
}

ArchConfig arch_with(const std::vector<std::string>& overrides) {
  std::string text;
  for (const auto& o : overrides) text += o + "\n";
  return parse_arch(text, "test.ini");
}

std::vector<Scheme> compiled_schemes() {
  return {Scheme::kXfpV2, Scheme::kXfpV2a, Scheme::kInt4G128, Scheme::kNf4B64, Scheme::kFp8E4M3, Scheme::kSop};
}

}  // namespace lutc::testing

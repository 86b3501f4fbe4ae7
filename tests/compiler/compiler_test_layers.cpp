#include "compiler_test_layers.h"

#include <algorithm>
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

QuantizedLayer quantize_for_test(Scheme scheme, const std::string& name, const float* w, uint32_t rows, uint32_t cols,
                                 uint32_t v2_group) {
  if (is_baseline(scheme)) return quantize_baseline(scheme, name, Role::kOther, w, rows, cols);
  if (scheme == Scheme::kSop) return quantize_sop_for_test(kSopTestFormat, name, w, rows, cols);
  XfpOptions o;
  o.mode = scheme;
  o.bits = 4;
  o.group = v2_group;
  o.outlier_fraction = 0.01;
  return quantize_xfp(name, Role::kOther, w, rows, cols, o);
}

QuantizedLayer quantize_sop_for_test(const std::string& format, const std::string& name, const float* w, uint32_t rows,
                                     uint32_t cols) {
  SopOptions o;
  o.format = parse_sop_format(format);
  return quantize_sop(name, Role::kOther, w, rows, cols, o);
}

ArchConfig arch_with(const std::vector<std::string>& overrides) {
  std::string text;
  for (const auto& o : overrides) text += o + "\n";
  return parse_arch(text, "test.ini");
}

ArchConfig arch_at_maxima(const std::vector<std::string>& overrides) {
  std::vector<std::string> keys = {"core.lanes=4096", "lut.banks=1024", "lut.bank_words=1048576",
                                   "sram.weight_kib=262144", "sram.act_kib=16384"};
  for (const std::string& o : overrides) {
    const std::string key = o.substr(0, o.find('=') + 1);
    keys.erase(std::remove_if(keys.begin(), keys.end(), [&](const std::string& k) { return k.rfind(key, 0) == 0; }),
               keys.end());
    keys.push_back(o);
  }
  return arch_with(keys);
}

uint64_t program_memory_bound(const Program& p, uint32_t batch) {
  uint64_t image = 0, lut_words = 0;
  for (const auto& seg : p.segments) image += seg.size();
  for (const LutRecord& r : p.lut_image) lut_words += r.words.size();
  const uint64_t per_vector = 2 * uint64_t(p.meta.cols) * (p.arch.act_bits / 8) + uint64_t(p.meta.rows) * 16;
  return image + batch * per_vector + 4 * (uint64_t(p.arch.lut_banks) * lut_words + p.lut_image.size()) +
         4 * p.entries();
}

std::vector<Scheme> compiled_schemes() {
  return {Scheme::kXfpV2, Scheme::kXfpV2a, Scheme::kInt4G128, Scheme::kNf4B64, Scheme::kFp8E4M3, Scheme::kSop};
}

}  // namespace lutc::testing

#include "parity_check.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/executor.h"
#include "lutc/compiler/layer_luts.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/golden.h"

namespace lutc::testing {

std::vector<float> random_x(uint32_t batch, uint32_t cols, std::mt19937_64& rng) {
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> x(size_t(batch) * cols);
  for (auto& v : x) v = n(rng);
  if (!x.empty()) x[0] = 0;  // an exact zero activation
  return x;
}

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

void expect_parity(const QuantizedLayer& l, const ArchConfig& arch, uint32_t batch, std::mt19937_64& rng) {
  const Program compiled = compile_layer(l, arch);
  const std::vector<uint8_t> bytes = serialize_lutp(compiled);
  const Program p = parse_lutp(bytes.data(), bytes.size(), "mem.lutp");
  const std::vector<float> x = random_x(batch, l.cols, rng);
  std::vector<float> got(size_t(batch) * l.rows, std::numeric_limits<float>::quiet_NaN());
  std::vector<float> want(size_t(batch) * l.rows, std::numeric_limits<float>::quiet_NaN());
  execute(p, x.data(), batch, got.data());
  GemvConfig cfg;
  cfg.act_bits = arch.act_bits;
  const HifFormat hif{arch.hif_mant_bits, arch.hif_shift_bits};
  const std::vector<float> w = hif_weights(l, hif);
  golden_gemv_weights(w.data(), l.rows, l.cols, x.data(), batch, cfg, want.data());
  if (arch.hif_mant_bits == 11 && arch.hif_shift_bits == 5) {
    // Lossless HIF: the reference is the golden GEMV of the layer itself.
    std::vector<float> golden(want.size(), std::numeric_limits<float>::quiet_NaN());
    golden_gemv(l, x.data(), batch, cfg, golden.data());
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(bits_of(golden[i]), bits_of(want[i])) << "element " << i;
  }
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(bits_of(got[i]), bits_of(want[i]))
        << l.name << " " << scheme_name(l.scheme) << " " << l.rows << "x" << l.cols << " batch " << batch << " element "
        << i << ": executor " << got[i] << " golden " << want[i];
}

}  // namespace lutc::testing

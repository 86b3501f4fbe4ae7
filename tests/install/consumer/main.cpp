// Uses an installed lutc through its public headers only: quantizes a fresh
// random matrix (xfp.v2, 4 bits), golden-decodes it, compiles it for the
// default arch and runs the program on the functional executor, which must
// match the golden GEMV of the HIF weights bit for bit. Exits 1 on any
// mismatch; prints "consumer: ok" last.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "lutc/compiler/arch_config.h"
#include "lutc/compiler/compile_layer.h"
#include "lutc/compiler/executor.h"
#include "lutc/compiler/layer_luts.h"
#include "lutc/model/golden.h"
#include "lutc/model/metrics.h"
#include "lutc/model/quantize.h"

namespace {

int fail(const char* what) {
  std::fprintf(stderr, "consumer: FAILED: %s\n", what);
  return 1;
}

}  // namespace

int main() {
  const uint32_t rows = 48, cols = 256, batch = 2;
  const unsigned seed = std::random_device{}();
  std::printf("consumer: seed %u\n", seed);
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 0.02f);
  std::vector<float> w(size_t(rows) * cols), x(size_t(batch) * cols);
  for (float& v : w) v = gauss(rng);
  for (float& v : x) v = gauss(rng) * 50.0f;

  lutc::XfpOptions opt;
  opt.bits = 4;
  const lutc::QuantizedLayer layer = lutc::quantize_xfp("consumer.w", lutc::Role::kMlp, w.data(), rows, cols, opt);

  std::vector<float> w_hat(w.size());
  lutc::golden_decode(layer, w_hat.data());
  double err = 0, ref = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    err += double(w[i] - w_hat[i]) * (w[i] - w_hat[i]);
    ref += double(w[i]) * w[i];
  }
  const double nmse = err / ref;
  std::printf("consumer: quantized %ux%u to xfp.v2 b4, golden decode nmse %.5f\n", rows, cols, nmse);
  if (!(nmse > 0 && nmse < 0.05)) return fail("golden decode nmse outside (0, 0.05) for 4-bit codes");

  const lutc::ArchConfig arch = lutc::default_arch();
  lutc::CompileReport report;
  const lutc::Program program = lutc::compile_layer(layer, arch, &report);
  std::printf("consumer: compiled for the default arch: %zu instructions, %zu LUT records, %llu bytes\n",
              program.code.size(), program.lut_image.size(), (unsigned long long)report.program_bytes);
  if (program.code.empty() || program.lut_image.empty() || report.program_bytes == 0) return fail("empty program");

  std::vector<float> y(size_t(batch) * rows, std::nanf("")), y_ref(size_t(batch) * rows, 0.0f);
  lutc::execute(program, x.data(), batch, y.data());
  lutc::GemvConfig cfg;
  cfg.act_bits = arch.act_bits;
  const std::vector<float> w_hif = lutc::hif_weights(layer, program.hif());
  lutc::golden_gemv_weights(w_hif.data(), rows, cols, x.data(), batch, cfg, y_ref.data());
  if (std::memcmp(y.data(), y_ref.data(), y.size() * sizeof(float)) != 0)
    return fail("executor output differs from the golden GEMV of the HIF weights");
  std::printf("consumer: executor == golden GEMV bit for bit (%u x %u outputs)\n", batch, rows);
  std::printf("consumer: ok\n");
  return 0;
}

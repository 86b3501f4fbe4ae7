// Real trained weights (stories260K, ../shared/data): every matrix through
// every scheme's quantizer (sop in several formats), then the exact path against the golden reference
// bit for bit and the fast paths against fp64 by NMSE.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "kernel_schemes.h"
#include "kernel_test_util.h"
#include "lutc/kernels/cpu/gemv.h"
#include "lutc/model/quantize.h"
#include "lutc/model/weights.h"
#include "model/layer_samples.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

// One quantized form of a matrix: a scheme, and for sop its format string.
struct Variant {
  Scheme scheme;
  std::string sop_format;
  std::string label() const { return sop_format.empty() ? scheme_name(scheme) : "sop " + sop_format; }
};

std::vector<Variant> variants() {
  std::vector<Variant> v;
  for (Scheme s : kDecodableSchemes) v.push_back({s, ""});
  for (const std::string& f : sop_test_formats()) v.push_back({Scheme::kSop, f});
  return v;
}

QuantizedLayer quantize_as(const Variant& v, const std::string& name, const std::vector<float>& w, uint32_t rows,
                           uint32_t cols) {
  const Scheme s = v.scheme;
  if (s == Scheme::kSop) return sop_layer(v.sop_format, name, w.data(), rows, cols);
  if (is_baseline(s)) return quantize_baseline(s, name, Role::kOther, w.data(), rows, cols);
  XfpOptions o;
  o.mode = s;
  o.bits = 4;
  o.group = s == Scheme::kXfpV2 ? 0 : 128;  // whole-row codebooks, the xfp.v2 default
  o.outlier_fraction = 0.01;
  return quantize_xfp(name, Role::kOther, w.data(), rows, cols, o);
}

TEST(RealWeights, Stories260kEverySchemeExactAndFast) {
  const std::string path = shared_data("stories260K/stories260K.safetensors");
  if (!require_file(path)) return;
  auto file = WeightFile::open(path);
  std::mt19937_64 rng(fresh_seed());
  kernels::ThreadPool pool(2);
  int matrices = 0;
  for (const TensorInfo& t : file->tensors()) {
    if (!t.is_matrix() || t.name.find("layers.0.") == std::string::npos) continue;
    ++matrices;
    const std::vector<float> w = file->read_all(t);
    for (const Variant& v : variants()) {
      SCOPED_TRACE(t.name + " as " + v.label());
      const QuantizedLayer l = quantize_as(v, t.name, w, uint32_t(t.rows()), uint32_t(t.cols()));
      const kernels::PackedLayer p = kernels::pack_layer(l);
      std::vector<float> want(l.elements());
      golden_decode(l, want.data());
      const uint32_t batch = 3;
      const std::vector<float> x = random_activations(rng, size_t(batch) * l.cols);
      std::vector<float> y_golden(size_t(batch) * l.rows);
      golden_gemv(l, x.data(), batch, GemvConfig{}, y_golden.data());
      const std::vector<double> ref = reference_fp64(l, x, batch);
      for (kernels::Isa isa : available_isas()) {
        kernels::RunOptions opt;
        opt.isa = isa;
        opt.pool = &pool;
        std::vector<float> got = poisoned(l.elements());
        kernels::decode_exact(p, 0, l.rows, got.data(), opt);
        ASSERT_TRUE(same_bits(want, got, l.cols)) << kernels::isa_name(isa);
        std::vector<float> y = poisoned(y_golden.size());
        kernels::gemv_exact(p, x.data(), batch, GemvConfig{}, y.data(), opt);
        ASSERT_TRUE(same_bits(y_golden, y, l.rows)) << kernels::isa_name(isa);
        for (kernels::Path path : {kernels::Path::kF32, kernels::Path::kI8}) {
          if (!kernels::path_supports(path, p)) continue;
          y = poisoned(y_golden.size());
          kernels::gemv_fast(path, p, x.data(), batch, y.data(), opt);
          const double e = nmse(ref, y);
          std::printf("[ nmse     ] stories260K %-32s %-31s %-8s %-3s %.3e\n", t.name.c_str(), v.label().c_str(),
                      kernels::isa_name(isa), kernels::path_name(path), e);
          EXPECT_LT(e, path == kernels::Path::kF32 ? 1e-9 : 3e-3) << kernels::isa_name(isa);
        }
      }
    }
  }
  EXPECT_GE(matrices, 7) << "expected the 7 projection matrices of layer 0";
}

}  // namespace
}  // namespace lutc::testing

// Real trained weights (stories260K, ../shared/data) through the CUDA
// kernels: every matrix of the first block in every scheme (sop in several
// formats), emulated everywhere and on the GPU where there is one.
#include <gtest/gtest.h>

#include <random>

#include "cuda_backend.h"
#include "lutc/model/quantize.h"
#include "lutc/model/weights.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

std::vector<QuantizedLayer> quantized_forms(const std::string& name, const std::vector<float>& w, uint32_t rows,
                                            uint32_t cols) {
  std::vector<QuantizedLayer> out;
  for (Scheme s : kDecodableSchemes) {
    if (is_baseline(s)) {
      out.push_back(quantize_baseline(s, name, Role::kOther, w.data(), rows, cols));
      continue;
    }
    XfpOptions o;  // floor-driven: the quantizer picks widths and outliers
    o.mode = s;
    out.push_back(quantize_xfp(name, Role::kOther, w.data(), rows, cols, o));
  }
  XfpOptions grouped;  // 4-bit codebooks per 32 columns: several tables per row
  grouped.bits = 4;
  grouped.group = 32;
  out.push_back(quantize_xfp(name + ".g32", Role::kOther, w.data(), rows, cols, grouped));
  for (const std::string& f : sop_test_formats()) out.push_back(sop_layer(f, name, w.data(), rows, cols));
  return out;
}

void run_stories(CudaBackend backend) {
  const std::string path = shared_data("stories260K/stories260K.safetensors");
  if (!require_file(path)) return;
  auto file = WeightFile::open(path);
  std::mt19937_64 rng(fresh_seed());
  int matrices = 0;
  for (const TensorInfo& t : file->tensors()) {
    if (!t.is_matrix() || t.name.find("layers.0.") == std::string::npos) continue;
    ++matrices;
    const std::vector<float> w = file->read_all(t);
    for (const QuantizedLayer& l : quantized_forms(t.name, w, uint32_t(t.rows()), uint32_t(t.cols())))
      check_layer(l, rng(), backend, {1, 4});
  }
  EXPECT_EQ(matrices, 7);
}

TEST(CudaRealWeights, Stories260kEmulated) { run_stories(CudaBackend::kEmulated); }

TEST(CudaRealWeights, Stories260kDevice) {
  REQUIRE_GPU();
  run_stories(CudaBackend::kDevice);
}

}  // namespace
}  // namespace lutc::testing

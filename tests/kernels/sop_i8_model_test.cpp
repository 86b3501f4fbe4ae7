// The i8 path on sop layers against its own integer model, not against the
// golden decode: every i8 kernel rounds each codebook to int8 once (scale =
// shared_i8_scale of the book) and each block of 32 activations to int8 (d =
// amax / 127), so
//   y = sum over groups g, elements k of  t8[book(g)][code k] * q_k
//       * (shared_i8_scale[book(g)] * sop_scale[code(g)]) * d(block of k)
//     + sum of outlier residual * x.
// That model, in fp64, leaves the kernel only fp32 rounding (integer dot
// products of at most 4 terms per int32 lane are exact), so a lane given the
// wrong group, scale, book, activation block or bias shows up as an O(1)
// error where the NMSE tests (fast_accuracy_test) would hide it under the
// int8 rounding they allow. Random layers: every block size, 6..10-bit scale
// codes (one byte and two), one or two random fp16 books, odd shapes (a short
// last chunk of 128), outliers; batches that take every tile width.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernel_schemes.h"
#include "kernel_test_util.h"
#include "lutc/kernels/cpu/gemv.h"
#include "lutc/model/bitpack.h"
#include "model/layer_samples.h"
#include "test_data.h"

namespace lutc::testing {
namespace {

using kernels::PackedLayer;

// The i8 model of y (see above) and, per output, the sum of |terms|.
void i8_model(const QuantizedLayer& l, const PackedLayer& p, const std::vector<float>& x, uint32_t batch,
              std::vector<double>* y, std::vector<double>* sum_abs) {
  y->assign(size_t(batch) * l.rows, 0.0);
  sum_abs->assign(size_t(batch) * l.rows, 0.0);
  std::vector<uint8_t> codes(l.cols);
  std::vector<int> q(l.cols);
  std::vector<double> d(l.cols);
  for (uint32_t m = 0; m < batch; ++m) {
    // Blocks of 32 start at each group (padded coordinates): at multiples of
    // 32 of the row in the dense layout and for blocks of 32 and 64 alike.
    const float* xm = x.data() + size_t(m) * l.cols;
    for (uint32_t k0 = 0; k0 < l.cols; k0 += 32) {
      const uint32_t k1 = std::min(l.cols, k0 + 32);
      float amax = 0;
      for (uint32_t k = k0; k < k1; ++k) amax = std::max(amax, std::fabs(xm[k]));
      const float inv = amax > 0 ? 127.0f / amax : 0.0f;
      for (uint32_t k = k0; k < k1; ++k) {
        q[k] = int(std::lrint(xm[k] * inv));
        d[k] = double(amax / 127.0f);
      }
    }
    for (uint32_t r = 0; r < l.rows; ++r) {
      unpack_indices(l.indices.data(), uint64_t(r) * l.cols, l.cols, l.bits, codes.data());
      double s = 0, a = 0;
      for (uint32_t k = 0; k < l.cols; ++k) {
        const unsigned c = l.block_scales[size_t(r) * l.groups_per_row() + k / l.group];
        const unsigned book = p.sop_book[c];
        const double t = double(p.shared_i8_scale[book]) * double(p.sop_scale[c]) *
                         double(p.shared_i8[16 * book + codes[k]]) * q[k] * d[k];
        s += t;
        a += std::fabs(t);
      }
      if (!l.outliers.row_ptr.empty())
        for (uint32_t e = l.outliers.row_ptr[r]; e < l.outliers.row_ptr[r + 1]; ++e) {
          const double t = double(half_to_float(l.outliers.val[e])) * xm[l.outliers.col[e]];
          s += t;
          a += std::fabs(t);
        }
      (*y)[size_t(m) * l.rows + r] = s;
      (*sum_abs)[size_t(m) * l.rows + r] = a;
    }
  }
}

TEST(SopI8, EveryIsaMatchesTheIntegerModelOnRandomLayers) {
  std::mt19937_64 rng(fresh_seed());
  kernels::ThreadPool pool(2);
  const uint32_t blocks[] = {8, 16, 32, 64};
  for (int trial = 0; trial < 48; ++trial) {
    SampleOptions o;
    o.bits = 4;
    o.rows = std::uniform_int_distribution<uint32_t>(1, 13)(rng);
    o.cols = std::uniform_int_distribution<uint32_t>(1, 700)(rng);
    QuantizedLayer l = random_sop_layer(rng, o);
    // Every block size and scale code shape in turn; a moderate layer scale
    // (fp32 underflow is not what this test is about).
    l.group = blocks[trial % 4];
    l.sop_scale_mant_bits = uint8_t(2 + (trial / 4) % 3);
    l.sop_paired = (trial / 12) % 2;
    l.sop_scale_signed = (trial / 24) % 2;
    l.codebooks.resize((l.sop_paired ? 2u : 1u) * 16);
    for (auto& h : l.codebooks) h = random_finite_half(rng);
    l.layer_scale_exp = std::uniform_int_distribution<int>(-20, 20)(rng);
    l.block_scales.resize(size_t(l.rows) * l.groups_per_row());
    for (auto& c : l.block_scales) c = uint16_t(rng() & ((1u << l.sop_scale_code_bits()) - 1));
    const PackedLayer p = kernels::pack_layer(l);
    SCOPED_TRACE(std::to_string(l.rows) + "x" + std::to_string(l.cols) + " block " + std::to_string(l.group) + ", " +
                 std::to_string(l.sop_scale_code_bits()) + "-bit scale codes" + (l.sop_paired ? ", paired" : ""));
    for (uint32_t batch : {1u, 2u, 5u, 8u, 11u}) {
      const std::vector<float> x = random_activations(rng, size_t(batch) * l.cols);
      std::vector<double> ref, sum_abs;
      i8_model(l, p, x, batch, &ref, &sum_abs);
      for (kernels::Isa isa : available_isas()) {
        kernels::RunOptions opt;
        opt.isa = isa;
        opt.pool = &pool;
        std::vector<float> y = poisoned(size_t(batch) * l.rows);
        kernels::gemv_fast(kernels::Path::kI8, p, x.data(), batch, y.data(), opt);
        for (size_t i = 0; i < y.size(); ++i) {
          // fp32 products and sums over at most cols + outliers terms, with
          // room to spare: the scale products, the conversions, the sums.
          const double bound = 1e-5 * sum_abs[i] + 1e-30;
          ASSERT_TRUE(std::isfinite(y[i]) && std::fabs(y[i] - ref[i]) <= bound)
              << kernels::isa_name(isa) << " batch " << batch << " output " << i % l.rows << " of vector " << i / l.rows
              << ": " << y[i] << " vs model " << ref[i] << " (sum |terms| " << sum_abs[i] << ")";
        }
      }
    }
  }
}

}  // namespace
}  // namespace lutc::testing

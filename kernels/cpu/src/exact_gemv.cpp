// The golden GEMV, fast: every (row, group) takes at most 2^b distinct weight
// values, so instead of one 128-bit product per element we add the integer
// activations into 2^b bins (exact 64-bit sums) and multiply each bin once by
// its integer weight. Integer sums do not depend on order, so this is the
// golden result bit for bit. Outliers replace the dense weight at their
// position: the bin counted the dense weight, one exact correction swaps it.
// Activation quantization, the weight-to-integer step and the final rounding
// are model/'s own functions (lutc/model/golden.h).
#include <cmath>
#include <cstring>
#include <vector>

#include "exact_rows.h"
#include "group_table.h"
#include "lutc/kernels/cpu/gemv.h"
#include "lutc/model/error.h"
#include "row_kernels.h"
#include "run_rows.h"

namespace lutc::kernels {
namespace {

IntActivations quantize_int(const PackedLayer& p, const float* x, uint32_t batch, unsigned bits) {
  IntActivations act;
  act.stride = p.padded_cols();
  act.a.assign(act.stride * batch, 0);
  act.exp.resize(batch);
  std::vector<int32_t> row(p.cols);
  for (uint32_t m = 0; m < batch; ++m) {
    act.exp[m] = quantize_activations(x + size_t(m) * p.cols, p.cols, bits, row.data());
    for (uint32_t g = 0; g < p.groups_per_row; ++g) {
      const uint32_t k0 = g * p.group, n = std::min(p.group, p.cols - k0);
      std::memcpy(&act.a[m * act.stride + size_t(g) * p.group_padded], row.data() + k0, n * sizeof(int32_t));
    }
  }
  return act;
}

// Bins of one group for one activation vector: h[c] = sum of a[k] over codes c.
void bin_group(const PackedLayer& p, const uint8_t* src, const uint8_t* codes, const int32_t* a, int64_t* h) {
  const unsigned entries = 1u << p.bits;
  if (p.bits == 4) {
    // Two bin sets break the store-to-load chain when neighbours share a code.
    int64_t h2[16] = {};
    for (unsigned j = 0; j < 16; ++j) h[j] = 0;
    for (uint32_t b = 0; b < p.group_padded; b += kBlock) {
      const uint8_t* s = src + b / 2;
      for (uint32_t j = 0; j < kBlock / 2; ++j) {
        h[s[j] & 15] += a[b + j];
        h2[s[j] >> 4] += a[b + j + kBlock / 2];
      }
    }
    for (unsigned j = 0; j < 16; ++j) h[j] += h2[j];
    return;
  }
  std::memset(h, 0, entries * sizeof(int64_t));
  for (uint32_t k = 0; k < p.group_padded; ++k) h[codes[k]] += a[k];
}

void exact_rows(const PackedLayer& p, const IntActivations& act, uint32_t batch, uint32_t r0, uint32_t r1, float* y) {
  const unsigned entries = 1u << p.bits;
  const int ew = p.weight_exp;
  const double unit = std::ldexp(1.0, -ew);
  // Bins pay off once a group has more elements than codes; tiny groups
  // (tests, odd shapes) multiply per element instead.
  const bool binned = p.group_padded >= 2 * entries;
  std::vector<float> table(entries);
  std::vector<int64_t> wi(entries), h(entries);
  std::vector<uint8_t> codes(p.group_padded);
  std::vector<__int128> acc(batch);
  for (uint32_t r = r0; r < r1; ++r) {
    std::fill(acc.begin(), acc.end(), 0);
    for (uint32_t g = 0; g < p.groups_per_row; ++g) {
      // Small sop blocks use a few of their 2^b entries: look those up in the
      // codebook and apply the block scale (the golden decode's one product).
      const float* book = nullptr;
      float scale = 0;
      if (!binned && p.scheme == Scheme::kSop) {
        const unsigned c = sop_code(p, size_t(r) * p.groups_per_row + g);
        book = p.shared.data() + size_t(p.sop_book[c]) * entries;
        scale = p.sop_scale[c];
      } else {
        group_table(p, r, g, table.data());
      }
      const uint8_t* src = p.indices.data() + size_t(r) * p.row_bytes + size_t(g) * p.group_bytes;
      if (p.bits != 4 || !binned) group_codes(p, r, g, codes.data());
      const size_t k0 = size_t(g) * p.group_padded;
      if (binned) {
        for (unsigned j = 0; j < entries; ++j) wi[j] = weight_int(table[j], unit);
        for (uint32_t m = 0; m < batch; ++m) {
          bin_group(p, src, codes.data(), act.a.data() + m * act.stride + k0, h.data());
          __int128 s = 0;
          for (unsigned j = 0; j < entries; ++j) s += __int128(wi[j]) * h[j];
          acc[m] += s;
        }
      } else {
        const uint32_t n = std::min(p.group, p.cols - g * p.group);
        for (uint32_t k = 0; k < n; ++k) {
          const int64_t w = weight_int(book ? book[codes[k]] * scale : table[codes[k]], unit);
          for (uint32_t m = 0; m < batch; ++m) acc[m] += __int128(w) * act.a[m * act.stride + k0 + k];
        }
      }
    }
    add_outlier_corrections(p, act, batch, r, unit, acc.data());
    for (uint32_t m = 0; m < batch; ++m) y[size_t(m) * p.rows + r] = scaled_int128_to_float(acc[m], ew + act.exp[m]);
  }
}

}  // namespace

void gemv_exact(const PackedLayer& layer, const float* x, uint32_t batch, const GemvConfig& cfg, float* y,
                const RunOptions& opt) {
  kernels_for(opt.isa);  // refuses a level this CPU lacks
  IntActivations act = quantize_int(layer, x, batch, cfg.act_bits);
  if (opt.isa == Isa::kAvx512 && exact_avx512_applies(layer)) {
    fill_lane_activations(layer, batch, act);
    run_rows(opt.pool, layer.rows, [&](uint32_t r0, uint32_t r1) { exact_rows_avx512(layer, act, batch, r0, r1, y); });
    return;
  }
  run_rows(opt.pool, layer.rows, [&](uint32_t r0, uint32_t r1) { exact_rows(layer, act, batch, r0, r1, y); });
}

void decode_exact(const PackedLayer& layer, uint32_t r0, uint32_t n, float* out, const RunOptions& opt) {
  if (uint64_t(r0) + n > layer.rows)
    throw Error(ExitCode::kUsage, "decode_exact: rows [" + std::to_string(r0) + ", " +
                                      std::to_string(uint64_t(r0) + n) + ") outside the layer's " +
                                      std::to_string(layer.rows) + " rows");
  const DecodeRowFn fn = kernels_for(opt.isa).decode_row;
  run_rows(opt.pool, n, [&](uint32_t a, uint32_t b) {
    for (uint32_t i = a; i < b; ++i) fn(layer, r0 + i, out + size_t(i) * layer.cols);
  });
}

}  // namespace lutc::kernels

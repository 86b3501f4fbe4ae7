// Fast paths: prepares the activations once per call (padded layout, int8
// blocks), then runs the chosen instruction set's row kernel over row chunks.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "lutc/kernels/cpu/gemv.h"
#include "lutc/model/error.h"
#include "row_kernels.h"
#include "run_rows.h"

namespace lutc::kernels {

const char* path_name(Path p) {
  switch (p) {
    case Path::kExact: return "exact";
    case Path::kF32: return "f32";
    case Path::kI8: return "i8";
  }
  return "?";
}

bool parse_path(const std::string& name, Path* out) {
  for (Path p : {Path::kExact, Path::kF32, Path::kI8})
    if (name == path_name(p)) {
      *out = p;
      return true;
    }
  return false;
}

bool path_supports(Path p, const PackedLayer& layer) { return p != Path::kI8 || layer.bits == 4; }

const IsaKernels& kernels_for(Isa isa) {
  if (!isa_available(isa))
    throw Error(ExitCode::kUsage, std::string("instruction set ") + isa_name(isa) + " is not available on this CPU");
  switch (isa) {
    case Isa::kAvx512: return avx512_kernels();
    case Isa::kAvx2: return avx2_kernels();
    default: return portable_kernels();
  }
}

namespace {

// x (batch x cols) in padded coordinates; returns x itself when no padding is needed.
const float* padded_activations(const PackedLayer& p, const float* x, uint32_t batch, std::vector<float>& buf) {
  if (!p.needs_padding()) return x;
  const size_t stride = p.padded_cols();
  buf.assign(stride * batch, 0.0f);
  for (uint32_t m = 0; m < batch; ++m)
    for (uint32_t g = 0; g < p.groups_per_row; ++g) {
      const uint32_t k0 = g * p.group, n = std::min(p.group, p.cols - k0);
      std::memcpy(&buf[m * stride + size_t(g) * p.group_padded], x + size_t(m) * p.cols + k0, n * sizeof(float));
    }
  return buf.data();
}

// Padded x with each 4-bit block of 32 permuted to the wide f32 order.
std::vector<float> wide_f32(const PackedLayer& p, const float* xp, uint32_t batch) {
  const size_t n = size_t(batch) * p.padded_cols();
  std::vector<float> out(n);
  for (size_t b = 0; b < n; b += kBlock)
    for (uint32_t pos = 0; pos < kBlock; ++pos) out[b + pos] = xp[b + wide_f32_element(pos)];
  return out;
}

struct I8Buffers {
  std::vector<int8_t> q;
  std::vector<float> d8, corr;
  std::vector<int32_t> nb;
};

// One block of 32 activations as int8 (round to nearest, |q| <= 127); returns the scale.
float quantize_block(const float* x, int8_t* qb) {
  float amax = 0;
  for (uint32_t k = 0; k < kBlock; ++k) amax = std::max(amax, std::fabs(x[k]));
  const float inv = amax > 0 ? 127.0f / amax : 0.0f;
  for (uint32_t k = 0; k < kBlock; ++k) qb[k] = int8_t(std::lrint(x[k] * inv));
  return amax / 127.0f;
}

// ActLayout::kSopChunks (row_kernels.h): the whole padded row in chunks of
// 128, zero past its end.
void quantize_i8_sop_chunks(const PackedLayer& p, const float* xp, uint32_t batch, I8Buffers& b, FastActivations& a) {
  const size_t stride = p.padded_cols(), chunks = (stride + kSopChunk - 1) / kSopChunk;
  const bool split = p.group < kBlock;  // the halves of a block belong to different groups
  a.q_stride = chunks * kSopChunk;
  a.d_stride = chunks * 16;
  a.nb_stride = chunks * (split ? 32 : 16);
  b.q.assign(a.q_stride * batch, 0);
  b.d8.assign(a.d_stride * batch, 0.0f);
  b.nb.assign(a.nb_stride * batch, 0);
  int8_t qb[kBlock];
  for (uint32_t m = 0; m < batch; ++m)
    for (size_t blk = 0; blk < stride / kBlock; ++blk) {
      const float d = quantize_block(xp + m * stride + blk * kBlock, qb);
      const size_t chunk = blk / 4, lane = blk % 4;
      int8_t* q = b.q.data() + m * a.q_stride + chunk * kSopChunk;
      std::memcpy(q + lane * 16, qb, 16);
      std::memcpy(q + 64 + lane * 16, qb + 16, 16);
      std::fill_n(b.d8.data() + m * a.d_stride + chunk * 16 + lane * 4, 4, d);
      int32_t* nb = b.nb.data() + m * a.nb_stride + chunk * (split ? 32 : 16) + lane * 4;
      for (uint32_t j = 0; j < 4; ++j) {
        const int32_t lo = qb[4 * j] + qb[4 * j + 1] + qb[4 * j + 2] + qb[4 * j + 3];
        const int32_t hi = qb[16 + 4 * j] + qb[16 + 4 * j + 1] + qb[16 + 4 * j + 2] + qb[16 + 4 * j + 3];
        if (split) {
          nb[j] = -128 * lo;
          nb[16 + j] = -128 * hi;
        } else {
          nb[j] = -128 * (lo + hi);
        }
      }
    }
  a.nb = b.nb.data();
}

// int8 activations, one scale per block of 32 (round to nearest, |q| <= 127).
// Dense layers (several groups per block) always take element order, and
// their corr is summed per group, not per block.
void quantize_i8(const PackedLayer& p, const float* xp, uint32_t batch, ActLayout layout, I8Buffers& b,
                 FastActivations& a) {
  const size_t stride = p.padded_cols(), blocks = stride / kBlock;
  const bool wide = layout == ActLayout::kWide && !p.dense();
  const uint32_t bpg = std::max<uint32_t>(1, p.group_padded / kBlock);  // blocks per group
  a.q_group = wide ? (p.group_padded + kWideChunk - 1) / kWideChunk * kWideChunk : p.group_padded;
  a.q_stride = p.dense() ? stride : a.q_group * p.groups_per_row;
  a.d_stride = a.q_stride / kBlock * (wide ? 4 : 8);
  b.q.assign(a.q_stride * batch, 0);
  b.d8.assign(a.d_stride * batch, 0.0f);
  b.corr.assign(size_t(p.groups_per_row) * batch, 0.0f);
  int8_t qb[kBlock];
  for (uint32_t m = 0; m < batch; ++m)
    for (size_t blk = 0; blk < blocks; ++blk) {
      const float d = quantize_block(xp + m * stride + blk * kBlock, qb);
      int32_t sum = 0;
      for (uint32_t k = 0; k < kBlock; ++k) sum += qb[k];
      float* corr = b.corr.data() + m * p.groups_per_row;
      if (p.dense()) {
        for (uint32_t k = 0; k < kBlock; ++k) {
          const size_t g = (blk * kBlock + k) / p.group_padded;
          if (g < p.groups_per_row) corr[g] += 128.0f * d * float(qb[k]);
        }
        std::memcpy(b.q.data() + m * a.q_stride + blk * kBlock, qb, kBlock);
        std::fill_n(b.d8.data() + m * a.d_stride + blk * 8, 8, d);
        continue;
      }
      const size_t g = blk / bpg, j = blk % bpg;  // group, block within it
      corr[g] += 128.0f * d * float(sum);
      int8_t* q = b.q.data() + m * a.q_stride + g * a.q_group;
      float* dd = b.d8.data() + m * a.d_stride + g * (a.q_group / kBlock) * (wide ? 4 : 8);
      if (!wide) {
        std::memcpy(q + j * kBlock, qb, kBlock);
        std::fill_n(dd + j * 8, 8, d);
      } else {
        const size_t chunk = j / 4, slot = j % 4;
        int8_t* c = q + chunk * kWideChunk;
        std::memcpy(c + slot * 16, qb, 16);
        std::memcpy(c + 64 + slot * 16, qb + 16, 16);
        std::fill_n(dd + chunk * 16 + slot * 4, 4, d);
      }
    }
}

// Rows whose packed bytes fill about kRunBytes (well inside a core's L2,
// next to a tile's activations), a multiple of 60 so that every row tile
// height the kernels use (1..6) divides it.
uint32_t rows_per_run(const PackedLayer& p) {
  constexpr size_t kRunBytes = size_t(256) << 10;
  const size_t per_row = std::max<size_t>(1, p.streamed_bytes() / std::max<uint32_t>(1, p.rows));
  return uint32_t(std::max<size_t>(1, kRunBytes / per_row / 60)) * 60;
}

}  // namespace

void gemv_fast(Path path, const PackedLayer& layer, const float* x, uint32_t batch, float* y, const RunOptions& opt) {
  if (path == Path::kExact) throw Error(ExitCode::kUsage, "gemv_fast: use gemv_exact for the exact path");
  if (!path_supports(path, layer))
    throw Error(ExitCode::kUsage, std::string("the i8 path needs 4-bit codes; this layer has ") +
                                      std::to_string(layer.bits) + "-bit codes");
  const IsaKernels& k = kernels_for(opt.isa);
  for (size_t i = 0; i < size_t(batch) * layer.cols; ++i)
    if (!std::isfinite(x[i]))
      throw Error(ExitCode::kBadInput, "gemv: activation " + std::to_string(i % layer.cols) + " of vector " +
                                           std::to_string(i / layer.cols) + " is not finite");
  std::vector<float> pad, wide;
  I8Buffers i8;
  FastActivations a;
  a.x = padded_activations(layer, x, batch, pad);
  a.x_orig = x;
  a.cols = layer.cols;
  a.stride = layer.padded_cols();
  // The wide order serves the 4-bit table kernels; sop layers have their own
  // AVX-512 rows (codebooks in registers), which read element order.
  if (path == Path::kF32 && k.layout == ActLayout::kWide && layer.bits == 4 && !sop_rows_avx512_handles(layer)) {
    wide = wide_f32(layer, a.x, batch);
    a.x = wide.data();
  }
  if (path == Path::kI8 && k.layout == ActLayout::kWide && sop_i8_avx512_handles(layer)) {
    quantize_i8_sop_chunks(layer, a.x, batch, i8, a);
    a.q = i8.q.data();
    a.d8 = i8.d8.data();
  } else if (path == Path::kI8) {
    quantize_i8(layer, a.x, batch, k.layout, i8, a);
    a.q = i8.q.data();
    a.d8 = i8.d8.data();
    a.corr = i8.corr.data();
  }
  const RowsFn fn = path == Path::kI8 ? k.i8 : k.f32;
  // A kernel call holds the accumulators of at most kMaxBatchTile vectors
  // (kWideBatchTile for the AVX-512 sop i8 rows) in registers. Larger
  // batches run tile after tile over one run of rows before the next run
  // (rows_per_run), so the weights come from DRAM once, for the first tile,
  // and from L2 for the others.
  const bool wide_tiles = k.layout == ActLayout::kWide && path == Path::kI8 && sop_i8_avx512_handles(layer);
  std::vector<FastActivations> tile;
  std::vector<uint32_t> first;  // each tile's first vector
  for (uint32_t m0 = 0; m0 < batch;) {
    const uint32_t left = batch - m0;
    const uint32_t width = wide_tiles && left >= kWideBatchTile ? kWideBatchTile : std::min(kMaxBatchTile, left);
    first.push_back(m0);
    FastActivations t = a;
    t.batch = width;
    t.x = a.x + m0 * a.stride;
    t.x_orig = x + size_t(m0) * layer.cols;
    if (t.q) {
      t.q = a.q + m0 * a.q_stride;
      t.d8 = a.d8 + m0 * a.d_stride;
      if (t.corr) t.corr = a.corr + m0 * layer.groups_per_row;
      if (t.nb) t.nb = a.nb + m0 * a.nb_stride;
    }
    tile.push_back(t);
    m0 += width;
  }
  const uint32_t run = tile.size() == 1 ? layer.rows : rows_per_run(layer);
  run_rows(opt.pool, layer.rows, [&](uint32_t r0, uint32_t r1) {
    for (uint32_t s = r0; s < r1; s += run)
      for (size_t ti = 0; ti < tile.size(); ++ti)
        fn(layer, tile[ti], s, std::min(r1, s + run), y + size_t(first[ti]) * layer.rows);
  });
}

}  // namespace lutc::kernels

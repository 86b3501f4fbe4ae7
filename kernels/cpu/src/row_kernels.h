#pragma once
// What each instruction-set file provides. The dispatcher (fast_gemv.cpp,
// exact_gemv.cpp) prepares activations once per call and hands row ranges
// to these functions, one per thread task.
#include <xmmintrin.h>

#include <cstdint>

#include "lutc/kernels/cpu/isa.h"
#include "lutc/kernels/cpu/packed_layer.h"

namespace lutc::kernels {

constexpr uint32_t kMaxBatchTile = 4;  // activation vectors sharing one decode of a row
// The AVX-512 sop i8 rows take tiles of 8 vectors: their decode (lookups,
// the scale gather) is a large share of the work, 8 accumulators per row fit
// the 32 registers, and 8 vectors of int8 activations (K bytes each, plus
// K/8 scales and K/4 bias words) stay near L1. The f32 rows stay at 4:
// eight fp32 vectors (32 KiB at K = 1024) leave L1, and a tile of 8 ran
// slower than two of 4 (2048 x 2048 in L2, one thread: 4.0 vs 5.5 G
// weights/s).
constexpr uint32_t kWideBatchTile = 8;

// Activations of one call, in the layer's padded column coordinates
// (group g, element j at g * group_padded + j; padding is zero).
struct FastActivations {
  uint32_t batch = 0;
  size_t stride = 0;              // padded_cols
  const float* x = nullptr;       // batch x stride (f32 path)
  const float* x_orig = nullptr;  // batch x cols, as given (outliers)
  uint32_t cols = 0;
  // i8 path: q[m][k] = round(x / d) per block of 32, d per block repeated
  // 8 times (one value per int32 lane of the block's dot product), and
  // corr[m][g] = 128 * sum over the group's blocks of d * sum(q) (the AVX-512
  // kernel biases weights by +128 to use the unsigned x signed dot product).
  const int8_t* q = nullptr;
  const float* d8 = nullptr;                       // batch x d_stride
  const float* corr = nullptr;                     // batch x groups_per_row
  size_t q_stride = 0, d_stride = 0, q_group = 0;  // per vector, per vector, per group (q)
  // kSopChunks: per dot lane -128 * the sum of its 4 q (cancels the weights' +128 bias).
  const int32_t* nb = nullptr;
  size_t nb_stride = 0;  // per vector
};

// How a kernel wants its activations laid out (the weights never move):
//  - kElementOrder: x, q in padded element order; d8 = each block's scale x8.
//  - kWide (AVX-512): inside each block of 32, x in the order
//    wide_f32_element() gives, so a 16-byte broadcast and two variable shifts
//    turn a block's codes into two vpermps index vectors with no byte
//    shuffles; q per group in chunks of 128 = [elements 0-15 of blocks 0..3,
//    then 16-31 of blocks 0..3] (the nibble order of 64 code bytes), and d8
//    per chunk = [d0 x4, d1 x4, d2 x4, d3 x4] (one per int32 lane of vpdpbusd).
//  - kSopChunks (AVX-512 sop i8 rows, 4-bit codes): the kWide i8 order over
//    the whole row instead of per group — chunks of 128 elements, q =
//    [elements 0-15 of blocks 0..3, then 16-31 of blocks 0..3], d8 per chunk
//    [d0 x4, d1 x4, d2 x4, d3 x4] — and nb per chunk: 16 lanes of low-nibble
//    elements then 16 of high (blocks of 8 and 16), or their 16 sums (blocks
//    of 32 and 64, where both halves of a block are one group). The row is
//    padded with zeros to whole chunks.
enum class ActLayout { kElementOrder, kWide, kSopChunks };
constexpr uint32_t kWideChunk = 128;
constexpr uint32_t kSopChunk = 128;

// Element (0..31) of a block at position pos (0..31) in the wide f32 order:
// lane i of vector v reads nibble n = 4v + i/4 of dword i%4.
inline uint32_t wide_f32_element(uint32_t pos) {
  const uint32_t v = pos / 16, i = pos % 16, d = i % 4, n = 4 * v + i / 4;
  return 4 * d + n / 2 + 16 * (n % 2);
}

// Software prefetch distance for code streams, in bytes. The hardware
// prefetcher alone leaves too few misses in flight when decode work sits
// between loads (xfp.v2 i8 from DRAM: 45 / 71 / 80 / 82 / 83 % of the read
// bandwidth at 1 / 4 / 8 / 16 / 32 KiB, docs/kernels.md 6.1), and the row
// tiles' R interleaved rows are R short streams it follows too late.
constexpr int kPrefetchBytes = 16384;
// The AVX-512 sop rows (f32 and i8) prefetch their codes twice as far ahead,
// into L2 (T1), for every row of a tile, a lone row included: a prefetch
// into L1 holds one of its few fill buffers until the line arrives, while
// L2 keeps many more misses in flight. 11008 x 4096 DRAM-resident, one
// thread of a shared 2-vCPU Xeon VM, mean G weights/s over alternating
// rounds: e2m1.ue4m3.b16 i8 8.7 (T0, 16 KiB) -> 11.9 (T1, 32 KiB), f32 7.0
// -> 9.4; e2m3.ue4m4.b16 f32 (one row per tile) 3.4 without a prefetch,
// 6.5 with.
constexpr int kSopPrefetchBytes = 32768;

// xfp.v2 tiles also read each group's fp16 codebook (16 entries, 32 bytes)
// from R more short streams: prefetch those of rows r..r+R-1 at group g,
// every second group (one 64-byte line holds two). Always inlined: a call
// from a tile would spill its table and accumulator registers (3.7x slower).
template <int R>
__attribute__((always_inline)) inline void prefetch_v2_codebooks(const PackedLayer& p, uint32_t r, uint32_t g) {
  if ((g & 1) != 0) return;
  for (int i = 0; i < R; ++i)
    _mm_prefetch(reinterpret_cast<const char*>(p.group_half.data() + (size_t(r + i) * p.groups_per_row + g) * 16) +
                     kPrefetchBytes / 2,
                 _MM_HINT_T0);
}

// f(codes) with the layer's sop scale codes as a typed array (uint8_t when
// the format's codes fit a byte, else uint16_t), so a kernel templated on the
// code type reads them without a branch per group.
template <class F>
decltype(auto) with_sop_codes(const PackedLayer& p, F&& f) {
  if (p.sop_code8.empty()) return f(p.group_half.data());
  return f(p.sop_code8.data());
}

using RowsFn = void (*)(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y);
// Dense decode + outliers of row r into out[0..cols): the golden decode.
using DecodeRowFn = void (*)(const PackedLayer& p, uint32_t r, float* out);

struct IsaKernels {
  ActLayout layout = ActLayout::kElementOrder;
  RowsFn f32 = nullptr;
  RowsFn i8 = nullptr;  // 4-bit layers only
  DecodeRowFn decode_row = nullptr;
};

// AVX-512 f32 rows for sop layers with 4- or 6-bit codes (sop_rows_avx512.cpp):
// codebooks in registers, activations in element order (not the wide order).
bool sop_rows_avx512_handles(const PackedLayer& p);
void sop_f32_rows_avx512(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y);

// AVX-512 i8 rows for 4-bit layers with groups of exactly 128 (int4.g128,
// xfp.v2, xfp.v2a): R rows per tile (i8_rows128_avx512.cpp).
bool i8_rows128_avx512_handles(const PackedLayer& p);
void i8_rows128_avx512(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y);

// AVX-512 VNNI i8 rows for sop layers with 4-bit codes, every block size
// (sop_i8_avx512.cpp); activations in ActLayout::kSopChunks.
bool sop_i8_avx512_handles(const PackedLayer& p);
void sop_i8_rows_avx512(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y);

// AVX2 f32 rows for sop layers with 6-bit codes (sop_rows_avx2.cpp): codes
// unpacked in registers, weights gathered from the layer's codebook.
bool sop_rows_avx2_handles(const PackedLayer& p);
void sop_f32_rows_avx2(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y);

const IsaKernels& portable_kernels();
const IsaKernels& avx2_kernels();
const IsaKernels& avx512_kernels();
const IsaKernels& kernels_for(Isa isa);  // throws when isa is not available here

// Shared by every ISA: y[m][r] += sum of residual * x over row r's outliers.
inline void add_outliers(const PackedLayer& p, const FastActivations& a, uint32_t r, uint32_t m, float* acc) {
  if (p.out_row_ptr.empty()) return;
  const float* x = a.x_orig + size_t(m) * a.cols;
  float s = 0;
  for (uint32_t i = p.out_row_ptr[r]; i < p.out_row_ptr[r + 1]; ++i) s += p.out_residual[i] * x[p.out_col[i]];
  *acc += s;
}

// The golden decode's outlier step on a decoded row.
inline void put_outliers(const PackedLayer& p, uint32_t r, float* row) {
  if (p.out_row_ptr.empty()) return;
  for (uint32_t i = p.out_row_ptr[r]; i < p.out_row_ptr[r + 1]; ++i) row[p.out_col[i]] = p.out_exact[i];
}

// int8 image of a group table: t ~ scale * t8, |t8| <= 127. Returns scale (0 for an all-zero table).
float table_to_i8(const float* t, unsigned n, int8_t* t8);

}  // namespace lutc::kernels

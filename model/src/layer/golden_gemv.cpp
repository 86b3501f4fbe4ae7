// The golden GEMV, docs/numerics.md "Golden GEMV": integer activations with
// one exponent per vector, integer weights with one exponent per matrix,
// exact products summed in a signed 128-bit accumulator (so the order of
// summation cannot matter), one rounding to fp32 at the end.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/golden.h"

namespace lutc {
namespace {

using u128 = unsigned __int128;

int leading_bit(u128 v) {  // v != 0
  const uint64_t hi = uint64_t(v >> 64);
  return hi ? 127 - __builtin_clzll(hi) : 63 - __builtin_clzll(uint64_t(v));
}

// Rounds magnitude m (< 2^64) right by d bits, half to even.
uint64_t shift_rne(uint64_t m, int d) {
  if (d <= 0) return m << -d;
  if (d > 64) return 0;
  const uint64_t q = d == 64 ? 0 : m >> d;
  const uint64_t rem = d == 64 ? m : m & ((uint64_t(1) << d) - 1);
  const uint64_t half = uint64_t(1) << (d - 1);
  return q + (rem > half || (rem == half && (q & 1)));
}

void check_act_bits(unsigned act_bits) {
  if (act_bits != 8 && act_bits != 16)
    throw Error(ExitCode::kBadInput, "act_bits " + std::to_string(act_bits) + " not supported (8 or 16)");
}

void check_weights(const float* w, uint32_t rows, uint32_t cols, uint32_t r0, WeightExponent* e) {
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t k = 0; k < cols; ++k) {
      const float v = w[size_t(r) * cols + k];
      if (!std::isfinite(v))
        throw Error(ExitCode::kBadInput, "golden GEMV: weight at row " + std::to_string(r0 + r) + ", column " +
                                             std::to_string(k) + " is not finite");
      e->add(v);
    }
}

struct Activations {
  std::vector<int32_t> a;  // batch x cols
  std::vector<int> exp;    // per vector
};

Activations quantize_batch(const float* x, uint32_t cols, uint32_t batch, unsigned act_bits) {
  Activations act;
  act.a.resize(size_t(batch) * cols);
  act.exp.resize(batch);
  for (uint32_t m = 0; m < batch; ++m)
    act.exp[m] = quantize_activations(x + size_t(m) * cols, cols, act_bits, act.a.data() + size_t(m) * cols);
  return act;
}

// y[m][r0 + i] for the n rows in w (n x cols fp32).
void gemv_rows(const float* w, uint32_t r0, uint32_t n, uint32_t rows, uint32_t cols, int ew, const Activations& act,
               uint32_t batch, float* y) {
  std::vector<int64_t> wi(cols);
  for (uint32_t i = 0; i < n; ++i) {
    const float* row = w + size_t(i) * cols;
    for (uint32_t k = 0; k < cols; ++k) wi[k] = weight_to_int(row[k], ew);
    for (uint32_t m = 0; m < batch; ++m) {
      const int32_t* a = act.a.data() + size_t(m) * cols;
      __int128 acc = 0;
      for (uint32_t k = 0; k < cols; ++k) acc += __int128(wi[k]) * a[k];
      y[size_t(m) * rows + r0 + i] = scaled_int128_to_float(acc, ew + act.exp[m]);
    }
  }
}

}  // namespace

int quantize_activations(const float* x, uint32_t cols, unsigned act_bits, int32_t* a) {
  check_act_bits(act_bits);
  float amax = 0;
  for (uint32_t k = 0; k < cols; ++k) {
    if (!std::isfinite(x[k]))
      throw Error(ExitCode::kBadInput, "golden GEMV: activation " + std::to_string(k) + " is not finite");
    const float b = bf16_to_float(float_to_bf16(x[k]));
    if (!std::isfinite(b))
      throw Error(ExitCode::kBadInput, "golden GEMV: activation " + std::to_string(k) + " overflows bf16");
    amax = std::max(amax, std::fabs(b));
  }
  if (amax == 0) {
    std::fill(a, a + cols, 0);
    return 0;
  }
  int e;
  std::frexp(amax, &e);  // amax < 2^e
  const int ea = e - int(act_bits - 1);
  const int32_t lim = (int32_t(1) << (act_bits - 1)) - 1;
  for (uint32_t k = 0; k < cols; ++k) {
    const float b = bf16_to_float(float_to_bf16(x[k]));
    if (b == 0) {
      a[k] = 0;
      continue;
    }
    int ex;
    const float m = std::frexp(std::fabs(b), &ex);    // |b| = m * 2^ex, m in [0.5, 1)
    const uint64_t sig = uint64_t(std::ldexp(m, 8));  // the 8 significant bits of bf16
    // |b| * 2^-ea = sig * 2^(ex - 8 - ea), rounded half to even on the integer grid.
    const int64_t q = int64_t(shift_rne(sig, ea - (ex - 8)));
    const int32_t v = int32_t(std::min<int64_t>(q, lim));
    a[k] = b < 0 ? -v : v;
  }
  return ea;
}

void WeightExponent::add(float w) {
  if (w == 0) return;
  int e;
  const float m = std::frexp(std::fabs(w), &e);  // |w| = m * 2^e
  const uint32_t sig = uint32_t(std::ldexp(m, 24));
  const int lsb = e - 24 + __builtin_ctz(sig);
  const int msb = e - 1;
  if (!any) {
    min_lsb = lsb;
    max_msb = msb;
    any = true;
  } else {
    min_lsb = std::min(min_lsb, lsb);
    max_msb = std::max(max_msb, msb);
  }
}

int64_t weight_to_int(float w, int ew) {
  if (w == 0) return 0;
  int e;
  const float m = std::frexp(std::fabs(w), &e);
  const uint64_t sig = uint64_t(std::ldexp(m, 24));
  const int sh = e - 24 - ew;
  // sh <= 39 because msb_exp - Ew <= 62; a right shift truncates toward zero.
  const uint64_t mag = sh >= 0 ? sig << sh : (-sh >= 64 ? 0 : sig >> -sh);
  return w < 0 ? -int64_t(mag) : int64_t(mag);
}

float scaled_int128_to_float(__int128 acc, int exp2) {
  if (acc == 0) return 0.0f;
  const bool neg = acc < 0;
  const u128 mag = neg ? u128(0) - u128(acc) : u128(acc);
  const int lead = leading_bit(mag);
  const long long top = (long long)lead + exp2;                // exponent of the leading bit
  const long long unit = std::max<long long>(top - 23, -149);  // exponent of the last kept bit
  const long long drop = unit - exp2;                          // bits rounded away
  u128 q;
  if (drop <= 0) {
    q = mag << -drop;  // exact, fewer than 25 bits
  } else if (drop > 128) {
    q = 0;  // below half of the smallest subnormal
  } else {
    q = drop == 128 ? 0 : mag >> drop;
    const u128 rem = drop == 128 ? mag : mag & ((u128(1) << drop) - 1);
    const u128 half = u128(1) << (drop - 1);
    if (rem > half || (rem == half && (q & 1))) ++q;
  }
  long long u = unit;
  if (q >> 24) {  // rounding carried to 2^24: one more exponent, still exact
    q >>= 1;
    ++u;
  }
  uint32_t bits;
  if (q < (u128(1) << 23)) {
    bits = uint32_t(q);  // subnormal or zero: unit is 2^-149
  } else {
    const long long biased = u + 23 + 127;
    bits = biased >= 255 ? 0x7f800000u : uint32_t(biased << 23) | (uint32_t(q) & 0x7fffffu);
  }
  if (neg) bits |= 0x80000000u;
  float f;
  static_assert(sizeof f == sizeof bits, "fp32");
  __builtin_memcpy(&f, &bits, 4);
  return f;
}

void golden_gemv_weights(const float* w, uint32_t rows, uint32_t cols, const float* x, uint32_t batch,
                         const GemvConfig& cfg, float* y) {
  check_act_bits(cfg.act_bits);
  WeightExponent e;
  check_weights(w, rows, cols, 0, &e);
  const Activations act = quantize_batch(x, cols, batch, cfg.act_bits);
  gemv_rows(w, 0, rows, rows, cols, e.ew(), act, batch, y);
}

void golden_gemv(const QuantizedLayer& layer, const float* x, uint32_t batch, const GemvConfig& cfg, float* y) {
  check_act_bits(cfg.act_bits);
  const Activations act = quantize_batch(x, layer.cols, batch, cfg.act_bits);
  // Two passes over row chunks: the weight exponent needs the whole matrix,
  // and decoding twice keeps memory at one chunk instead of the whole layer.
  const uint64_t chunk_elems = uint64_t(1) << 22;  // 16 MiB of fp32 per chunk
  const uint32_t chunk =
      uint32_t(std::max<uint64_t>(1, std::min<uint64_t>(layer.rows, chunk_elems / std::max(1u, layer.cols))));
  std::vector<float> w(size_t(chunk) * layer.cols);
  WeightExponent e;
  for (uint32_t r = 0; r < layer.rows; r += chunk) {
    const uint32_t n = std::min(chunk, layer.rows - r);
    golden_decode_rows(layer, r, n, w.data());
    check_weights(w.data(), n, layer.cols, r, &e);
  }
  for (uint32_t r = 0; r < layer.rows; r += chunk) {
    const uint32_t n = std::min(chunk, layer.rows - r);
    golden_decode_rows(layer, r, n, w.data());
    gemv_rows(w.data(), r, n, layer.rows, layer.cols, e.ew(), act, batch, y);
  }
}

}  // namespace lutc

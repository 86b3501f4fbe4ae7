// Plain C++ kernels: the reference shape every SIMD file follows, and the
// path on machines without AVX2.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "group_table.h"
#include "row_kernels.h"

namespace lutc::kernels {

float table_to_i8(const float* t, unsigned n, int8_t* t8) {
  float amax = 0;
  for (unsigned j = 0; j < n; ++j) amax = std::max(amax, std::fabs(t[j]));
  if (amax == 0) {
    std::memset(t8, 0, n);
    return 0;
  }
  const float inv = 127.0f / amax;
  for (unsigned j = 0; j < n; ++j) t8[j] = int8_t(std::lrint(t[j] * inv));
  return amax / 127.0f;
}

float group_table_i8(const PackedLayer& p, uint32_t r, uint32_t g, int8_t* t8) {
  const size_t gi = size_t(r) * p.groups_per_row + g;
  switch (p.scheme) {
    case Scheme::kInt4G128: {
      const float z = half_to_float(p.group_half[2 * gi + 1]);
      if (z == std::floor(z) && z >= 0 && z <= 15) {
        for (int j = 0; j < 16; ++j) t8[j] = int8_t(j - int(z));
        return half_to_float(p.group_half[2 * gi]);
      }
      break;  // a zero point off the integer grid: round the table like any other
    }
    case Scheme::kNf4B64:
      std::memcpy(t8, p.shared_i8.data(), 16);
      return p.shared_i8_scale[0] * half_to_float(p.group_half[gi]);
    case Scheme::kXfpV2a: {
      const unsigned id = p.group_ids[gi];
      std::memcpy(t8, p.shared_i8.data() + 16 * id, 16);
      return p.shared_i8_scale[id];
    }
    case Scheme::kXfpV2: std::memcpy(t8, p.group_i8.data() + 16 * gi, 16); return p.group_i8_scale[gi];
    case Scheme::kSop: {
      const unsigned c = sop_code(p, gi);
      std::memcpy(t8, p.shared_i8.data() + 16 * p.sop_book[c], 16);
      return p.shared_i8_scale[p.sop_book[c]] * p.sop_scale[c];
    }
    default: break;
  }
  float t[256];
  group_table(p, r, g, t);
  return table_to_i8(t, 16, t8);
}

namespace {

void f32_rows(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  std::vector<float> table(size_t(1) << p.bits);
  std::vector<uint8_t> codes(p.group_padded);
  std::vector<float> acc(a.batch);
  for (uint32_t r = r0; r < r1; ++r) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (uint32_t g = 0; g < p.groups_per_row; ++g) {
      group_table(p, r, g, table.data());
      group_codes(p, r, g, codes.data());
      for (uint32_t m = 0; m < a.batch; ++m) {
        const float* x = a.x + m * a.stride + size_t(g) * p.group_padded;
        float s[4] = {0, 0, 0, 0};
        for (uint32_t k = 0; k < p.group_padded; k += 4)
          for (int u = 0; u < 4; ++u) s[u] += table[codes[k + u]] * x[k + u];
        acc[m] += (s[0] + s[1]) + (s[2] + s[3]);
      }
    }
    for (uint32_t m = 0; m < a.batch; ++m) {
      add_outliers(p, a, r, m, &acc[m]);
      y[size_t(m) * p.rows + r] = acc[m];
    }
  }
}

void i8_rows(const PackedLayer& p, const FastActivations& a, uint32_t r0, uint32_t r1, float* y) {
  int8_t t8[16];
  std::vector<uint8_t> codes(p.group_padded);
  std::vector<float> acc(a.batch);
  for (uint32_t r = r0; r < r1; ++r) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (uint32_t g = 0; g < p.groups_per_row; ++g) {
      const float ts = group_table_i8(p, r, g, t8);
      group_codes(p, r, g, codes.data());
      for (uint32_t m = 0; m < a.batch; ++m) {
        const size_t k0 = size_t(g) * p.group_padded;
        const int8_t* q = a.q + m * a.q_stride + k0;
        const float* d8 = a.d8 + m * a.d_stride + k0 / kBlock * 8;
        // A dense group (8 or 16 elements) is part of one block: one step, that block's scale.
        const uint32_t step = std::min(kBlock, p.group_padded);
        float sg = 0;
        for (uint32_t b = 0; b < p.group_padded; b += step) {
          int32_t dot = 0;
          for (uint32_t k = 0; k < step; ++k) dot += int32_t(t8[codes[b + k]]) * q[b + k];
          sg += d8[b / kBlock * 8] * float(dot);
        }
        acc[m] += ts * sg;
      }
    }
    for (uint32_t m = 0; m < a.batch; ++m) {
      add_outliers(p, a, r, m, &acc[m]);
      y[size_t(m) * p.rows + r] = acc[m];
    }
  }
}

void decode_row(const PackedLayer& p, uint32_t r, float* out) {
  std::vector<float> table(size_t(1) << p.bits);
  std::vector<uint8_t> codes(p.group_padded);
  for (uint32_t g = 0; g < p.groups_per_row; ++g) {
    group_table(p, r, g, table.data());
    group_codes(p, r, g, codes.data());
    const uint32_t k0 = g * p.group, n = std::min(p.group, p.cols - k0);
    for (uint32_t k = 0; k < n; ++k) out[k0 + k] = table[codes[k]];
  }
  put_outliers(p, r, out);
}

}  // namespace

const IsaKernels& portable_kernels() {
  static const IsaKernels k{ActLayout::kElementOrder, f32_rows, i8_rows, decode_row};
  return k;
}

}  // namespace lutc::kernels

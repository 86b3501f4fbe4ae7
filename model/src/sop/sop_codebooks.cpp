// The SOP element codebooks (docs/sop.md "Codebooks"): fixed tables as fp16,
// and the weighted Lloyd step that derives BOF4 offline and learns DD4 per layer.
#include <algorithm>
#include <cmath>
#include <random>

#include "core/portable_random.h"
#include "lutc/model/element_formats.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/sop.h"
#include "lutc/model/suggest.h"

namespace lutc {
namespace {

struct CodebookEntry {
  SopCodebook id;
  const char* name;
  unsigned bits;
};
constexpr CodebookEntry kCodebooks[] = {
    {SopCodebook::kNf4, "nf4", 4},   {SopCodebook::kBof4, "bof4", 4}, {SopCodebook::kSplit87, "split87", 4},
    {SopCodebook::kSh4, "sh4", 4},   {SopCodebook::kE2m1, "e2m1", 4}, {SopCodebook::kE2m3, "e2m3", 6},
    {SopCodebook::kInt4, "int4", 4}, {SopCodebook::kInt6, "int6", 6}, {SopCodebook::kDd4, "dd4", 4},
};

// BOF4 for B = 16, produced by derive_bof4(16, 1 << 20, 1) (6 decimals; the
// codebook is these rounded to fp16; sop_codebook_test re-derives it).
// Ascending; -1, 0, +1 pinned.
constexpr float kBof4Levels[16] = {-1.0f,      -0.784573f, -0.613227f, -0.468005f, -0.339081f, -0.220784f,
                                   -0.108705f, 0.0f,       0.094770f,  0.191697f,  0.292920f,  0.400694f,
                                   0.518687f,  0.651715f,  0.807639f,  1.0f};

std::vector<uint16_t> halves(const std::vector<double>& v) {
  std::vector<uint16_t> h;
  for (double x : v) h.push_back(float_to_half(float(x)));
  return h;
}

// Sign-magnitude minifloat with 2 exponent bits, bias 1, subnormals: the OCP
// MX FP4 (E2M1, M = 1) and FP6 (E2M3, M = 3) element grids, in code order.
std::vector<double> e2m_grid(unsigned mant_bits) {
  std::vector<double> v;
  const unsigned n = 1u << (3 + mant_bits);
  for (unsigned code = 0; code < n; ++code) {
    const unsigned s = code >> (2 + mant_bits), e = (code >> mant_bits) & 3u;
    const unsigned m = code & ((1u << mant_bits) - 1u);
    const double frac = double(m) / double(1u << mant_bits);
    const double mag = e == 0 ? frac : (1 + frac) * std::ldexp(1.0, int(e) - 1);
    v.push_back(s ? -mag : mag);
  }
  return v;
}

// Two's complement: code c is c, or c - 2^bits for the upper half.
std::vector<double> int_grid(unsigned bits) {
  std::vector<double> v;
  for (unsigned c = 0; c < (1u << bits); ++c)
    v.push_back(c < (1u << (bits - 1)) ? double(c) : double(c) - double(1u << bits));
  return v;
}

}  // namespace

const char* sop_codebook_name(SopCodebook c) {
  for (const auto& e : kCodebooks)
    if (e.id == c) return e.name;
  return "unknown";
}

bool parse_sop_codebook(const std::string& name, SopCodebook* out) {
  for (const auto& e : kCodebooks)
    if (name == e.name) {
      *out = e.id;
      return true;
    }
  return false;
}

std::vector<std::string> sop_codebook_names() {
  std::vector<std::string> v;
  for (const auto& e : kCodebooks) v.push_back(e.name);
  return v;
}

unsigned sop_codebook_bits(SopCodebook c) {
  for (const auto& e : kCodebooks)
    if (e.id == c) return e.bits;
  return 4;
}

bool sop_codebook_is_dynamic(SopCodebook c) { return c == SopCodebook::kDd4; }

std::vector<SopCodebook> sop_fixed_4bit_codebooks() {
  return {SopCodebook::kNf4, SopCodebook::kBof4, SopCodebook::kSplit87,
          SopCodebook::kSh4, SopCodebook::kE2m1, SopCodebook::kInt4};
}

std::vector<uint16_t> sop_fixed_codebook(SopCodebook c) {
  std::vector<double> v;
  switch (c) {
    case SopCodebook::kNf4: {
      std::vector<uint16_t> h;
      for (unsigned i = 0; i < 16; ++i) h.push_back(nf4_level_fp16(i));
      return h;
    }
    case SopCodebook::kBof4: v.assign(kBof4Levels, kBof4Levels + 16); break;
    case SopCodebook::kSplit87:
      // 7 levels below zero with step 1/7, zero, 8 above with step 1/8: both
      // tails reach exactly 1, so a block maximum on either side is a level.
      for (int i = -7; i <= -1; ++i) v.push_back(i / 7.0);
      v.push_back(0);
      for (int i = 1; i <= 8; ++i) v.push_back(i / 8.0);
      break;
    case SopCodebook::kSh4:
      // Symmetric mid-rise grid +-(2k+1)/15: no zero code, all 16 codes in use.
      for (int k = -8; k < 8; ++k) v.push_back((2 * k + 1) / 15.0);
      break;
    case SopCodebook::kE2m1: v = e2m_grid(1); break;
    case SopCodebook::kE2m3: v = e2m_grid(3); break;
    case SopCodebook::kInt4: v = int_grid(4); break;
    case SopCodebook::kInt6: v = int_grid(6); break;
    case SopCodebook::kDd4: return {};
  }
  return halves(v);
}

std::vector<double> lloyd_levels(const std::vector<float>& values, const std::vector<float>& weights, unsigned levels,
                                 const std::vector<double>& init, const std::vector<double>& pinned,
                                 unsigned iterations) {
  // A histogram makes every iteration O(bins * levels) however many values there are.
  constexpr unsigned kBins = 4096;
  std::vector<double> bw(kBins, 0), bwu(kBins, 0);
  for (size_t i = 0; i < values.size(); ++i) {
    const double u = std::min(1.0, std::max(-1.0, double(values[i])));
    const unsigned bin = std::min(kBins - 1, unsigned((u + 1) * 0.5 * kBins));
    const double wt = weights.empty() ? 1.0 : double(weights[i]);
    bw[bin] += wt;
    bwu[bin] += wt * u;
  }
  std::vector<double> c(init.begin(), init.end());
  c.resize(levels, 0.0);
  std::vector<bool> fixed(levels, false);
  for (double p : pinned) {
    size_t best = 0;
    for (size_t i = 1; i < c.size(); ++i)
      if (!fixed[i] && (fixed[best] || std::fabs(c[i] - p) < std::fabs(c[best] - p))) best = i;
    c[best] = p;
    fixed[best] = true;
  }
  std::vector<double> sw(levels), swu(levels);
  for (unsigned it = 0; it < iterations; ++it) {
    std::vector<size_t> order(levels);
    for (size_t i = 0; i < levels; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return c[x] < c[y]; });
    std::fill(sw.begin(), sw.end(), 0.0);
    std::fill(swu.begin(), swu.end(), 0.0);
    size_t j = 0;
    for (unsigned bin = 0; bin < kBins; ++bin) {
      if (bw[bin] <= 0) continue;
      const double u = bwu[bin] / bw[bin];
      while (j + 1 < levels && std::fabs(c[order[j + 1]] - u) <= std::fabs(c[order[j]] - u)) ++j;
      while (j > 0 && std::fabs(c[order[j - 1]] - u) < std::fabs(c[order[j]] - u)) --j;
      sw[order[j]] += bw[bin];
      swu[order[j]] += bwu[bin];
    }
    double moved = 0;
    for (unsigned i = 0; i < levels; ++i) {
      if (fixed[i] || sw[i] <= 0) continue;
      const double n = swu[i] / sw[i];
      moved = std::max(moved, std::fabs(n - c[i]));
      c[i] = n;
    }
    if (moved < 1e-9) break;
  }
  std::sort(c.begin(), c.end());
  return c;
}

std::vector<double> derive_bof4(uint32_t block, uint64_t blocks, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::vector<float> u, wt;
  u.reserve(size_t(blocks) * block);
  wt.reserve(size_t(blocks) * block);
  std::vector<double> x(block);
  for (uint64_t b = 0; b < blocks; ++b) {
    double amax = 0;
    for (auto& v : x) {
      v = portable::normal(g);
      amax = std::max(amax, std::fabs(v));
    }
    for (double v : x) {
      u.push_back(float(v / amax));
      wt.push_back(float(amax * amax));  // the error in weight space is amax x the normalized error
    }
  }
  std::vector<double> init;
  for (unsigned i = 0; i < 16; ++i) init.push_back(kNf4Levels[i]);
  return lloyd_levels(u, wt, 16, init, {-1.0, 0.0, 1.0}, 200);
}

}  // namespace lutc

#pragma once
// Random quantized layers of every scheme (valid by construction), for the
// container and golden-decode tests.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "lutc/model/bitpack.h"
#include "lutc/model/element_formats.h"
#include "lutc/model/fp16.h"
#include "lutc/model/layer.h"

namespace lutc::testing {

inline uint16_t random_finite_half(std::mt19937_64& rng) {
  for (;;) {
    const uint16_t h = uint16_t(rng());
    if ((h & 0x7c00u) != 0x7c00u) return h;
  }
}

struct SampleOptions {
  uint32_t rows = 0, cols = 0;  // 0: random
  unsigned bits = 0;            // 0: random valid for the scheme
  double outlier_fraction = 0.02;
};

inline QuantizedLayer random_layer(Scheme scheme, std::mt19937_64& rng, SampleOptions o = {}) {
  auto uni = [&](uint32_t lo, uint32_t hi) { return uint32_t(std::uniform_int_distribution<uint32_t>(lo, hi)(rng)); };
  QuantizedLayer l;
  l.name = "blk." + std::to_string(uni(0, 99)) + ".w" + std::to_string(uni(0, 1u << 30));
  l.role = Role(uni(0, 5));
  l.rows = o.rows ? o.rows : uni(1, 9);
  l.cols = o.cols ? o.cols : uni(1, 300);
  l.scheme = scheme;
  const unsigned all_bits[] = {2, 3, 4, 5, 6, 8};
  l.bits = uint8_t(o.bits ? o.bits : all_bits[uni(0, 5)]);
  if (uni(0, 1)) l.params["floor"] = std::to_string(uni(0, 1000));
  if (uni(0, 1)) l.params["note"] = std::string(uni(0, 20), 'x');

  switch (scheme) {
    case Scheme::kXfpV2: {
      const uint32_t choices[] = {l.cols, std::min<uint32_t>(128, l.cols), uni(1, l.cols)};
      l.group = choices[uni(0, 2)];
      break;
    }
    case Scheme::kXfpV2a: l.group = kV2aGroup; break;
    case Scheme::kInt4G128:
      l.bits = 4;
      l.group = 128;
      break;
    case Scheme::kNf4B64:
      l.bits = 4;
      l.group = 64;
      break;
    case Scheme::kFp8E4M3:
      l.bits = 8;
      l.group = 0;
      l.layer_scale_exp = int32_t(uni(0, 40)) - 20;
      break;
    default: break;
  }
  const uint64_t groups = uint64_t(l.rows) * l.groups_per_row();
  const uint32_t entries = 1u << l.bits;

  std::vector<uint8_t> codes(size_t(l.elements()));
  for (auto& c : codes) {
    c = uint8_t(rng() & (entries - 1));
    if (scheme == Scheme::kFp8E4M3 && e4m3_is_nan(c)) c = uint8_t(c - 1);
  }
  l.indices.resize(packed_bytes(l.elements(), l.bits));
  pack_indices(codes.data(), codes.size(), l.bits, l.indices.data());

  switch (scheme) {
    case Scheme::kXfpV2:
      l.codebooks.resize(size_t(groups) * entries);
      for (auto& h : l.codebooks) h = random_finite_half(rng);
      break;
    case Scheme::kXfpV2a:
      l.codebooks.resize(size_t(kV2aLibrarySize) * entries);
      for (auto& h : l.codebooks) h = random_finite_half(rng);
      l.group_ids.resize(size_t(groups));
      for (auto& g : l.group_ids) g = uint8_t(uni(0, kV2aLibrarySize - 1));
      break;
    case Scheme::kInt4G128:
      l.group_scales.resize(size_t(groups));
      l.group_zeros.resize(size_t(groups));
      for (auto& h : l.group_scales) h = random_finite_half(rng);
      for (auto& h : l.group_zeros) h = float_to_half(float(uni(0, 15)));
      break;
    case Scheme::kNf4B64:
      for (unsigned i = 0; i < 16; ++i) l.codebooks.push_back(nf4_level_fp16(i));
      l.group_scales.resize(size_t(groups));
      for (auto& h : l.group_scales) h = random_finite_half(rng);
      break;
    default: break;
  }

  if (o.outlier_fraction > 0) {
    OutlierCsr& csr = l.outliers;
    csr.row_ptr.push_back(0);
    for (uint32_t r = 0; r < l.rows; ++r) {
      for (uint32_t k = 0; k < l.cols; ++k) {
        if (std::uniform_real_distribution<double>(0, 1)(rng) < o.outlier_fraction) {
          csr.col.push_back(k);
          csr.val.push_back(random_finite_half(rng));
        }
      }
      csr.row_ptr.push_back(uint32_t(csr.col.size()));
    }
  }
  return l;
}

inline bool same_layer(const QuantizedLayer& a, const QuantizedLayer& b) {
  return a.name == b.name && a.role == b.role && a.rows == b.rows && a.cols == b.cols && a.scheme == b.scheme &&
         a.bits == b.bits && a.group == b.group && a.indices == b.indices && a.codebooks == b.codebooks &&
         a.group_ids == b.group_ids && a.group_scales == b.group_scales && a.group_zeros == b.group_zeros &&
         a.layer_scale_exp == b.layer_scale_exp && a.outliers.row_ptr == b.outliers.row_ptr &&
         a.outliers.col == b.outliers.col && a.outliers.val == b.outliers.val && a.params == b.params;
}

constexpr Scheme kDecodableSchemes[] = {Scheme::kXfpV2, Scheme::kXfpV2a, Scheme::kInt4G128, Scheme::kNf4B64,
                                        Scheme::kFp8E4M3};

// A random sop layer: every block size, 4- and 6-bit codes, UE4M2..4
// scales, signed and paired scale codes, layer exponents that reach fp32
// subnormal products.
inline QuantizedLayer random_sop_layer(std::mt19937_64& rng, const SampleOptions& o) {
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  // Borrow the shape, name, codes and outliers of a 4- or 6-bit xfp.v2 layer.
  SampleOptions base = o;
  base.bits = o.bits == 4 || o.bits == 6 ? o.bits : (uni(0, 1) ? 4 : 6);
  QuantizedLayer l = random_layer(Scheme::kXfpV2, rng, base);
  const unsigned entries = 1u << l.bits;
  const uint32_t blocks[] = {8, 16, 32, 64};
  l.scheme = Scheme::kSop;
  l.group = blocks[uni(0, 3)];
  l.sop_scale_mant_bits = uint8_t(uni(2, 4));
  l.sop_scale_signed = uni(0, 1);
  l.sop_paired = uni(0, 1);
  l.layer_scale_exp = uni(-100, 60);  // the low end gives subnormal products; the high end stays finite
  l.codebooks.resize((l.sop_paired ? 2 : 1) * entries);
  for (auto& h : l.codebooks) h = random_finite_half(rng);
  // Half the 6-bit layers get sign-symmetric books (entry c + 32 = -entry c, as FP6 E2M3's), which the
  // exact AVX-512 kernel serves with half-size tables.
  if (l.bits == 6 && uni(0, 1))
    for (size_t b = 0; b < l.codebooks.size(); b += entries)
      for (unsigned c = 0; c < 32; ++c) l.codebooks[b + c + 32] = uint16_t(l.codebooks[b + c] ^ 0x8000);
  l.block_scales.resize(size_t(l.rows) * l.groups_per_row());
  for (auto& c : l.block_scales) c = uint16_t(rng() & ((1u << l.sop_scale_code_bits()) - 1));
  return l;
}

// random_layer for every scheme of kSchemeTraits, sop included.
inline QuantizedLayer random_any_layer(Scheme s, std::mt19937_64& rng, SampleOptions o = {}) {
  return s == Scheme::kSop ? random_sop_layer(rng, o) : random_layer(s, rng, o);
}

}  // namespace lutc::testing

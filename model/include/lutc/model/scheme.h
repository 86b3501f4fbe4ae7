#pragma once
// The schemes a layer can be stored in, and every fact about each one in one
// table row (as ggml's type_traits): its name, whether its index width and
// group are fixed, and which per-layer fields it uses. validate() checks a
// layer against its row; the CUDA kernels switch on this same enum. What a
// scheme's codes decode to is code, not a fact, and lives in golden_decode.cpp
// (and in each kernel, held to it by the parity tests).
#include <cstdint>

namespace lutc {

// The value is the scheme's id in .xfp files (docs/xfp-format.md).
enum class Scheme : uint8_t {
  kXfpV2 = 1,     // per-(row, group) Lloyd codebook of 2^b fp16 entries
  kXfpV2a = 2,    // per-layer library of 32 codebooks, 5-bit id per (row, group of 128)
  kSop = 3,       // scaled outer product block formats (docs/sop.md)
  kInt4G128 = 4,  // asymmetric RTN, fp16 scale + fp16 zero per 128
  kNf4B64 = 5,    // NF4 table, fp16 absmax per 64
  kFp8E4M3 = 6,   // OCP E4M3 elements, one power-of-two scale per layer
};

struct SchemeTraits {
  Scheme scheme;
  const char* name;     // as on the command line and in reports
  uint8_t fixed_bits;   // the only index width; 0: chosen per layer from {2,3,4,5,6,8}
  int32_t fixed_group;  // the only group (0: none, one scale per layer); -1: chosen per layer
  // Which QuantizedLayer fields the scheme uses; every other one must be empty.
  bool codebooks, group_ids, group_scales, group_zeros, block_scales;
  bool layer_scale;  // layer_scale_exp (a power-of-two scale on every value)
};

// clang-format off
inline constexpr SchemeTraits kSchemeTraits[] = {
  // scheme             name         bits group  books  ids    scales zeros  blocks layer_scale
  {Scheme::kXfpV2,     "xfp.v2",     0,   -1,    true,  false, false, false, false, false},
  {Scheme::kXfpV2a,    "xfp.v2a",    0,   128,   true,  true,  false, false, false, false},
  {Scheme::kSop,       "sop",        0,   -1,    true,  false, false, false, true,  true},
  {Scheme::kInt4G128,  "int4.g128",  4,   128,   false, false, true,  true,  false, false},
  {Scheme::kNf4B64,    "nf4.b64",    4,   64,    true,  false, true,  false, false, false},
  {Scheme::kFp8E4M3,   "fp8.e4m3",   8,   0,     false, false, false, false, false, true},
};
// clang-format on

// The row of `s`, or nullptr for a code no scheme has (a corrupt file).
inline constexpr const SchemeTraits* find_scheme_traits(Scheme s) {
  for (const SchemeTraits& t : kSchemeTraits)
    if (t.scheme == s) return &t;
  return nullptr;
}

}  // namespace lutc

#include "lutc/model/layer.h"

#include <cmath>
#include <string>

#include "layer/layer_check.h"
#include "lutc/model/bitpack.h"
#include "lutc/model/element_formats.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/sop_scale.h"
#include "lutc/model/suggest.h"

namespace lutc {
namespace {

// Sizes stay far from uint64 overflow in every byte/bit computation below
// (elements * 8 bits) and in the golden GEMV's accumulator bound.
constexpr uint64_t kMaxElements = uint64_t(1) << 48;

constexpr int kMinLayerScaleExp = -160;  // below this every fp8 value underflows to zero
constexpr int kMaxLayerScaleExp = 119;   // 448 * 2^119 is the last finite fp32 multiple
// sop: 2^±100 keeps every signed scale value (UE magnitude in [2^-10, 496])
// an fp32 normal, so the scale is exact and entry x scale cannot overflow.
constexpr int kSopMinLayerScaleExp = -100;
constexpr int kSopMaxLayerScaleExp = 100;

bool half_is_finite(uint16_t h) { return (h & 0x7c00u) != 0x7c00u; }

class Checker {
 public:
  Checker(const QuantizedLayer& l, const std::string& file, long long offset) : l_(l), file_(file), offset_(offset) {}
  [[noreturn]] void fail(const std::string& what) const {
    fail_input(file_, l_.name, offset_, std::string(scheme_name(l_.scheme)) + ": " + what);
  }
  void require(bool ok, const std::string& what) const {
    if (!ok) fail(what);
  }
  void count(const char* field, size_t have, uint64_t want) const {
    if (have != want)
      fail(std::string(field) + " has " + std::to_string(have) + " entries, expected " + std::to_string(want));
  }
  void finite_halves(const char* field, const std::vector<uint16_t>& v) const {
    for (size_t i = 0; i < v.size(); ++i)
      if (!half_is_finite(v[i])) fail(std::string(field) + "[" + std::to_string(i) + "] is not finite");
  }

 private:
  const QuantizedLayer& l_;
  const std::string& file_;
  long long offset_;
};

void check_outliers(const QuantizedLayer& l, const Checker& c) {
  const OutlierCsr& o = l.outliers;
  if (o.row_ptr.empty()) {
    c.require(o.col.empty() && o.val.empty(), "outlier entries without row_ptr");
    return;
  }
  c.count("outlier row_ptr", o.row_ptr.size(), uint64_t(l.rows) + 1);
  c.require(o.row_ptr[0] == 0, "outlier row_ptr[0] is " + std::to_string(o.row_ptr[0]) + ", not 0");
  for (uint32_t r = 0; r < l.rows; ++r)
    if (o.row_ptr[r + 1] < o.row_ptr[r]) c.fail("outlier row_ptr decreases at row " + std::to_string(r));
  const uint64_t nnz = o.row_ptr[l.rows];
  c.count("outlier col", o.col.size(), nnz);
  c.count("outlier val", o.val.size(), nnz);
  for (uint32_t r = 0; r < l.rows; ++r) {
    for (uint32_t i = o.row_ptr[r]; i < o.row_ptr[r + 1]; ++i) {
      if (o.col[i] >= l.cols)
        c.fail("outlier at row " + std::to_string(r) + " has column " + std::to_string(o.col[i]) + " >= cols " +
               std::to_string(l.cols));
      if (i > o.row_ptr[r] && o.col[i] <= o.col[i - 1])
        c.fail("outlier columns not strictly increasing in row " + std::to_string(r));
    }
  }
  c.finite_halves("outlier val", o.val);
}

void check_index_stream(const QuantizedLayer& l, const Checker& c) {
  const uint64_t bits = l.elements() * l.bits;
  c.count("indices (bytes)", l.indices.size(), packed_bytes(l.elements(), l.bits));
  // The stream is canonical: bits past the last code are zero, so a layer has one encoding.
  if (bits % 8) {
    const unsigned used = unsigned(bits % 8);
    c.require((l.indices.back() >> used) == 0, "padding bits after the last index are not zero");
  }
}

// What the scheme's row in kSchemeTraits fixes: the index width, the group,
// and which fields may be present at all.
void check_against_traits(const QuantizedLayer& l, const SchemeTraits& t, const Checker& c) {
  if (t.fixed_bits) c.require(l.bits == t.fixed_bits, "bits must be " + std::to_string(t.fixed_bits));
  if (t.fixed_group == 0) c.require(l.group == 0, "group must be 0 (one scale per layer)");
  if (t.fixed_group > 0)
    c.require(l.group == uint32_t(t.fixed_group), "group must be " + std::to_string(t.fixed_group));
  auto unused = [&](bool used, const char* field, size_t n) {
    if (!used) c.require(n == 0, std::string(field) + " must be empty for this scheme");
  };
  unused(t.codebooks, "codebooks", l.codebooks.size());
  unused(t.group_ids, "group_ids", l.group_ids.size());
  unused(t.group_scales, "group_scales", l.group_scales.size());
  unused(t.group_zeros, "group_zeros", l.group_zeros.size());
  unused(t.block_scales, "block_scales", l.block_scales.size());
  if (!t.layer_scale) {
    std::string users;
    for (const SchemeTraits& o : kSchemeTraits)
      if (o.layer_scale) users += std::string(users.empty() ? "" : " and ") + o.name;
    c.require(l.layer_scale_exp == 0, "layer_scale_exp is only used by " + users);
  }
  if (!t.block_scales)
    c.require(l.sop_scale_mant_bits == 0 && !l.sop_scale_signed && !l.sop_paired,
              "SOP scale format fields are only used by sop");
}

// What each scheme checks beyond its traits, one function per scheme so the
// dispatch in validate_at stays a short exhaustive switch. groups is
// rows x groups_per_row, entries 2^bits (one codebook's length).

void check_xfp_v2(const QuantizedLayer& l, const Checker& c, uint64_t groups, uint64_t entries) {
  c.require(l.group >= 1 && l.group <= l.cols, "group " + std::to_string(l.group) + " not in 1..cols");
  c.count("codebooks", l.codebooks.size(), groups * entries);
  c.finite_halves("codebooks", l.codebooks);
}

void check_xfp_v2a(const QuantizedLayer& l, const Checker& c, uint64_t groups, uint64_t entries) {
  c.count("codebooks", l.codebooks.size(), kV2aLibrarySize * entries);
  c.finite_halves("codebooks", l.codebooks);
  c.count("group_ids", l.group_ids.size(), groups);
  for (size_t i = 0; i < l.group_ids.size(); ++i)
    if (l.group_ids[i] >= kV2aLibrarySize)
      c.fail("group_ids[" + std::to_string(i) + "] = " + std::to_string(l.group_ids[i]) +
             " >= " + std::to_string(kV2aLibrarySize));
}

void check_int4_g128(const QuantizedLayer& l, const Checker& c, uint64_t groups) {
  c.count("group_scales", l.group_scales.size(), groups);
  c.count("group_zeros", l.group_zeros.size(), groups);
  c.finite_halves("group_scales", l.group_scales);
  for (size_t i = 0; i < l.group_zeros.size(); ++i) {
    const float z = half_to_float(l.group_zeros[i]);
    if (!(z >= 0 && z <= 15 && z == std::floor(z)) || (l.group_zeros[i] & 0x8000u))
      c.fail("group_zeros[" + std::to_string(i) + "] is not an integer 0..15");
  }
}

void check_nf4_b64(const QuantizedLayer& l, const Checker& c, uint64_t groups) {
  c.count("codebooks", l.codebooks.size(), 16);
  for (unsigned i = 0; i < 16; ++i)
    if (l.codebooks[i] != nf4_level_fp16(i))
      c.fail("codebooks[" + std::to_string(i) + "] is not the NF4 level rounded to fp16");
  c.count("group_scales", l.group_scales.size(), groups);
  c.finite_halves("group_scales", l.group_scales);
}

void check_fp8_e4m3(const QuantizedLayer& l, const Checker& c) {
  c.require(l.layer_scale_exp >= kMinLayerScaleExp && l.layer_scale_exp <= kMaxLayerScaleExp,
            "layer_scale_exp " + std::to_string(l.layer_scale_exp) + " outside [" + std::to_string(kMinLayerScaleExp) +
                ", " + std::to_string(kMaxLayerScaleExp) + "]");
  for (size_t i = 0; i < l.indices.size(); ++i)
    if (e4m3_is_nan(l.indices[i])) c.fail("element " + std::to_string(i) + " holds the E4M3 NaN code");
}

void check_sop(const QuantizedLayer& l, const Checker& c, uint64_t groups, uint64_t entries) {
  c.require(sop_block_ok(l.group), "block size " + std::to_string(l.group) + " not in " + kSopBlocksText);
  c.require(sop_scale_mant_ok(l.sop_scale_mant_bits), "scale mantissa bits " + std::to_string(l.sop_scale_mant_bits) +
                                                          " not in " + std::to_string(kSopScaleMantMin) + ".." +
                                                          std::to_string(kSopScaleMantMax));
  c.require(l.layer_scale_exp >= kSopMinLayerScaleExp && l.layer_scale_exp <= kSopMaxLayerScaleExp,
            "layer_scale_exp " + std::to_string(l.layer_scale_exp) + " outside [" +
                std::to_string(kSopMinLayerScaleExp) + ", " + std::to_string(kSopMaxLayerScaleExp) + "]");
  c.count("codebooks", l.codebooks.size(), (l.sop_paired ? 2 : 1) * entries);
  c.finite_halves("codebooks", l.codebooks);
  c.count("block_scales", l.block_scales.size(), groups);
  const unsigned w = l.sop_scale_code_bits();
  for (size_t i = 0; i < l.block_scales.size(); ++i)
    if (l.block_scales[i] >> w)
      c.fail("block_scales[" + std::to_string(i) + "] = " + std::to_string(l.block_scales[i]) + " does not fit " +
             std::to_string(w) + " bits");
}

}  // namespace

const char* scheme_name(Scheme s) {
  const SchemeTraits* t = find_scheme_traits(s);
  return t ? t->name : "unknown";
}

bool parse_scheme(const std::string& name, Scheme* out) {
  for (const auto& e : kSchemeTraits) {
    if (name == e.name) {
      if (out) *out = e.scheme;
      return true;
    }
  }
  return false;
}

std::string scheme_names() {
  std::string s;
  for (const auto& e : kSchemeTraits) s += (s.empty() ? "" : ", ") + std::string(e.name);
  return s;
}

std::vector<std::string> scheme_option_names() {
  std::vector<std::string> v = {"xfp"};
  for (const auto& e : kSchemeTraits) v.push_back(e.name);
  return v;
}

bool valid_index_bits(unsigned b) { return b == 2 || b == 3 || b == 4 || b == 5 || b == 6 || b == 8; }

void validate(const QuantizedLayer& l, const std::string& file) { validate_at(l, file, -1); }

void validate_at(const QuantizedLayer& l, const std::string& file, long long offset) {
  const Checker c(l, file, offset);
  if (l.name.empty()) fail_input(file, "", offset, "layer has an empty name");
  const SchemeTraits* traits = find_scheme_traits(l.scheme);
  c.require(traits != nullptr, "unknown scheme code " + std::to_string(int(l.scheme)));
  c.require(l.rows > 0 && l.cols > 0, "empty shape " + std::to_string(l.rows) + "x" + std::to_string(l.cols));
  c.require(l.elements() <= kMaxElements, "more than 2^48 elements");
  c.require(valid_index_bits(l.bits), "index width " + std::to_string(l.bits) + " not in {2,3,4,5,6,8}");
  check_against_traits(l, *traits, c);
  check_index_stream(l, c);
  check_outliers(l, c);

  const uint64_t entries = uint64_t(1) << l.bits;
  const uint64_t groups = uint64_t(l.rows) * l.groups_per_row();
  // One exhaustive switch, so a new scheme cannot compile without its checks.
  switch (l.scheme) {
    case Scheme::kXfpV2: check_xfp_v2(l, c, groups, entries); break;
    case Scheme::kXfpV2a: check_xfp_v2a(l, c, groups, entries); break;
    case Scheme::kInt4G128: check_int4_g128(l, c, groups); break;
    case Scheme::kNf4B64: check_nf4_b64(l, c, groups); break;
    case Scheme::kFp8E4M3: check_fp8_e4m3(l, c); break;
    case Scheme::kSop: check_sop(l, c, groups, entries); break;
  }
}

}  // namespace lutc

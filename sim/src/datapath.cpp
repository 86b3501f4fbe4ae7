#include "lutc/sim/datapath.h"

#include <algorithm>

#include "lutc/compiler/program.h"
#include "lutc/model/error.h"

namespace lutc::sim {

TileShape tile_shape(const ComputeCommand& c) {
  const uint32_t k0 = c.insn.f[2], cols = c.insn.f[1];
  const uint32_t group = uint32_t(c.regs[uint32_t(isa::CfgReg::GROUP)]);
  TileShape t;
  t.groups = cols == 0 ? 0 : (k0 + cols - 1) / group - k0 / group + 1;
  t.bits = uint32_t(c.regs[uint32_t(isa::CfgReg::BITS)]);
  t.meta_bytes = meta_record_bytes(uint32_t(c.regs[uint32_t(isa::CfgReg::META)]));
  return t;
}

ColumnSpan group_columns(uint32_t k0, uint32_t cols, uint32_t group, uint32_t g) {
  const uint64_t g_abs = k0 / group + g;
  const uint64_t begin = g == 0 ? k0 : g_abs * group;
  const uint64_t end = std::min<uint64_t>(uint64_t(k0) + cols, (g_abs + 1) * group);
  return {uint32_t(begin - k0), uint32_t(end - k0)};
}

int32_t activation_at(const uint8_t* p, uint32_t act_bytes) {
  return act_bytes == 1 ? int32_t(int8_t(p[0])) : int32_t(int16_t(uint16_t(p[0] | p[1] << 8)));
}

BlockScale block_scale(const uint8_t* record, uint32_t meta_format, const std::string& layer) {
  BlockScale s;
  if (meta_format != kMetaScale && meta_format != kMetaIdScale) return s;
  const uint8_t* sp = record + (meta_format == kMetaIdScale ? 2 : 0);
  const uint16_t h = uint16_t(sp[0] | sp[1] << 8);
  const unsigned e = (h >> 10) & 31, frac = h & 1023;
  if (e == 31) fail_input("", layer, -1, "sim: block scale is not finite");
  s.negative = h >> 15;
  s.mant = e ? (frac | 1024) : frac;
  s.exp = e ? int(e) - 25 : -24;
  return s;
}

void integer_weights(const uint32_t* words, uint32_t entries, int base, const HifLayout& hif, const BlockScale& s,
                     int ew, const std::string& layer, int64_t* out) {
  const uint32_t mant_mask = (1u << hif.mant_bits) - 1, shift_mask = (1u << hif.shift_bits) - 1;
  for (uint32_t c = 0; c < entries; ++c) {
    const uint32_t w = words[c];
    const uint64_t mant = uint64_t(w & mant_mask) * s.mant;
    const int shift = int((w >> hif.mant_bits) & shift_mask);
    const bool negative = (((w >> (hif.mant_bits + hif.shift_bits)) & 1) != 0) != s.negative;
    // trunc(mant * 2^(base - shift + s.exp - Ew)), toward zero.
    const int sh = base - shift + s.exp - ew;
    uint64_t mag = 0;
    if (mant != 0) {
      if (sh >= 0) {
        if (sh > 62 || (mant >> (62 - sh)) != 0) fail_input("", layer, -1, "sim: a weight does not fit 63 bits at Ew");
        mag = mant << sh;
      } else {
        mag = -sh >= 64 ? 0 : mant >> -sh;
      }
    }
    out[c] = negative ? -int64_t(mag) : int64_t(mag);
  }
}

u128 dot_codes(const uint8_t* codes, const int32_t* a, uint32_t n, const int64_t* w, uint32_t entries) {
  u128 sum = 0;
  if (n < entries) {
    for (uint32_t j = 0; j < n; ++j) sum += u128(__int128(w[codes[j]]) * a[j]);
    return sum;
  }
  // Integer addition is exact, so sum the activations per code first (at most
  // 2^32 x 2^15 in magnitude: fits int64) and multiply once per book entry.
  int64_t per_code[256] = {};
  for (uint32_t j = 0; j < n; ++j) per_code[codes[j]] += a[j];
  for (uint32_t c = 0; c < entries; ++c)
    if (per_code[c] != 0) sum += u128(__int128(w[c]) * per_code[c]);
  return sum;
}

}  // namespace lutc::sim

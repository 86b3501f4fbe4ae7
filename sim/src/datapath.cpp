#include "lutc/sim/datapath.h"

#include "lutc/compiler/program.h"
#include "lutc/model/error.h"
#include "lutc/spec/meta_record.h"
#include "lutc/spec/weight_int.h"

namespace lutc::sim {

TileShape tile_shape(const ComputeCommand& c) {
  const uint32_t k0 = c.insn.f[isa::fields::DECODE_MAC::k0], cols = c.insn.f[isa::fields::DECODE_MAC::cols];
  TileShape t;
  t.groups = uint32_t(groups_in_chunk(k0, cols, uint32_t(c.regs[uint32_t(isa::CfgReg::GROUP)])));
  t.bits = uint32_t(c.regs[uint32_t(isa::CfgReg::BITS)]);
  t.meta_bytes = meta_record_bytes(uint32_t(c.regs[uint32_t(isa::CfgReg::META)]));
  return t;
}

BlockScale block_scale(const uint8_t* record, uint32_t meta_format, const std::string& layer) {
  if (!meta_has_scale(meta_format)) return BlockScale{};
  const BlockScale s = decode_block_scale(read_meta_record(meta_format, record).scale);
  if (!s.finite) fail_input("", layer, -1, "sim: block scale is not finite");
  return s;
}

void integer_weights(const uint32_t* words, uint32_t entries, int base, const HifFormat& hif, const BlockScale& s,
                     int ew, const std::string& layer, int64_t* out) {
  for (uint32_t c = 0; c < entries; ++c) {
    const HifFields h = hif_unpack(hif, words[c]);
    // trunc(mant * 2^(base - shift + s.exp - Ew)), toward zero.
    const WeightInt w =
        weight_int_from_parts(h.negative != s.negative, uint64_t(h.mant) * s.mant, base - int(h.shift) + s.exp - ew);
    if (!w.fits) fail_input("", layer, -1, "sim: a weight does not fit 63 bits at Ew");
    out[c] = w.value;
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

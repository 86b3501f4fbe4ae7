#include "sop_tables.h"

#include <cmath>

#include "lutc/model/fp16.h"
#include "lutc/model/sop_scale.h"

namespace lutc::kernels {

void pack_sop_tables(const QuantizedLayer& l, PackedLayer& p) {
  // One byte per code where the format's code fits (sop_scale_code_bits() is
  // the one definition of its width); the 9- and 10-bit codes keep 16 bits.
  if (l.sop_scale_code_bits() <= 8)
    p.sop_code8.assign(l.block_scales.begin(), l.block_scales.end());
  else
    p.group_half = l.block_scales;
  for (uint16_t h : l.codebooks) p.shared.push_back(half_to_float(h));
  if (l.sop_paired)
    p.sop_sel_mask = pack_sop_scale(SopScaleCode{0, 1, 0}, l.sop_scale_mant_bits, true, l.sop_scale_signed);
  const unsigned codes = 1u << l.sop_scale_code_bits();
  p.sop_scale.resize(codes);
  p.sop_book.resize(codes);
  for (unsigned c = 0; c < codes; ++c) {
    const SopScaleCode sc = unpack_sop_scale(uint16_t(c), l.sop_scale_mant_bits, l.sop_paired, l.sop_scale_signed);
    // The golden decode's scale, operation for operation: exact ldexp, then an exact negation.
    float sv = std::ldexp(ue_value(sc.magnitude, l.sop_scale_mant_bits), l.layer_scale_exp);
    if (sc.sign) sv = -sv;
    p.sop_scale[c] = sv;
    p.sop_book[c] = uint8_t(sc.sel);
  }
}

}  // namespace lutc::kernels

// The failure report a regression prints: which output differs first and
// which instructions produced it, so a bad case can be replayed with
// `lutc rtl --wave` and the right window of the wave found.
#include <cstdio>
#include <cstring>

#include "lutc/rtl/rtl_engine.h"

namespace lutc::rtl {

std::string first_mismatch(const Program& p, const RtlResult& r, const float* got, const float* want, uint32_t batch) {
  for (uint32_t m = 0; m < batch; ++m)
    for (uint32_t row = 0; row < p.meta.rows; ++row) {
      const size_t i = size_t(m) * p.meta.rows + row;
      uint32_t g, w;
      std::memcpy(&g, &got[i], 4);
      std::memcpy(&w, &want[i], 4);
      if (g == w) continue;
      const RowOrigin& o = r.origin[row];
      char buf[512];
      std::snprintf(buf, sizeof buf,
                    "layer '%s' output row %u (vector %u): got %.9g (0x%08x), want %.9g (0x%08x); row stored by "
                    "STORE at instruction %u, accumulated by DECODE_MAC instructions %u..%u (tiles %u..%u)",
                    p.meta.layer.c_str(), row, m, double(got[i]), g, double(want[i]), w, o.store_insn,
                    o.first_decode_insn, o.last_decode_insn, o.first_tile, o.last_tile);
      return buf;
    }
  return "";
}

}  // namespace lutc::rtl

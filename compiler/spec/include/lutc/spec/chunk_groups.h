#pragma once
// How a column chunk [k0, k0 + cols) of a DECODE_MAC tile meets the layer's
// groups of `group` columns (docs/isa.md "DECODE_MAC"): it touches
// groups_in_chunk groups, the first possibly partial, and group g of the
// chunk covers the chunk-local columns group_columns(...). In 64 bits, so a
// chunk that ends at 2^32 does not wrap.
#include <cstdint>

#include "lutc/spec/host_device.h"

namespace lutc {

LUTC_SPEC_HD inline uint64_t groups_in_chunk(uint32_t k0, uint32_t cols, uint32_t group) {
  return cols == 0 ? 0 : (uint64_t(k0) + cols - 1) / group - k0 / group + 1;
}

struct ColumnSpan {
  uint32_t begin, end;  // chunk-local, [begin, end)
};

LUTC_SPEC_HD inline ColumnSpan group_columns(uint32_t k0, uint32_t cols, uint32_t group, uint32_t g) {
  const uint64_t g_abs = uint64_t(k0 / group) + g;
  const uint64_t begin = g == 0 ? k0 : g_abs * group;
  const uint64_t chunk_end = uint64_t(k0) + cols, group_end = (g_abs + 1) * group;
  const uint64_t end = chunk_end < group_end ? chunk_end : group_end;
  return {uint32_t(begin - k0), uint32_t(end - k0)};
}

}  // namespace lutc

#pragma once
// Which LUT slot (book) a (row, group) of a DECODE_MAC decodes with, by CFG
// BOOK_SELECT (docs/isa.md "DECODE_MAC"). In 64 bits, so that a corrupt
// program cannot wrap a slot back into the LUT's range; the caller checks
// the result against the LUT's slots.
#include <cstdint>

#include "lutc/spec/host_device.h"

namespace lutc {

enum class BookSelect : uint8_t {
  kFixed = 0,     // every group uses book slot0
  kPerGroup = 1,  // slot0 + row * groups + group (one book per (row, group) of the tile)
  kById = 2,      // slot0 + the group's metadata id
};

// r: row of the tile; g: group of the chunk, of `groups`; id: the record's id.
LUTC_SPEC_HD inline uint64_t book_slot(uint32_t select, uint32_t slot0, uint32_t r, uint64_t groups, uint32_t g,
                                       uint8_t id) {
  if (select == uint32_t(BookSelect::kPerGroup)) return uint64_t(slot0) + uint64_t(r) * groups + g;
  if (select == uint32_t(BookSelect::kById)) return uint64_t(slot0) + id;
  return slot0;
}

}  // namespace lutc

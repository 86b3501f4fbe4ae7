#pragma once
// The metadata record a DECODE_MAC reads per (row, group of the chunk); its
// format is CFG META (docs/isa.md "Metadata records"):
//   kMetaNone     0 bytes
//   kMetaId       1 byte : library id (BOOK_SELECT by id)
//   kMetaScale    2 bytes: fp16 block scale, little-endian
//   kMetaIdScale  4 bytes: id, a zero byte, fp16 block scale
// The compiler writes records with write_meta_record; the executor, SystemC
// and the RTL harness read them with read_meta_record (lutc_engine.sv reads
// the same byte positions).
#include <cstdint>

#include "lutc/spec/block_scale.h"
#include "lutc/spec/host_device.h"
#include "lutc/spec/little_endian.h"

namespace lutc {

constexpr uint32_t kMetaNone = 0, kMetaId = 1, kMetaScale = 2, kMetaIdScale = 3;

// Bytes of one record; 0 for a format that is not one of the four.
LUTC_SPEC_HD inline uint32_t meta_record_bytes(uint32_t format) {
  return format == kMetaId ? 1 : format == kMetaScale ? 2 : format == kMetaIdScale ? 4 : 0;
}
LUTC_SPEC_HD inline bool meta_has_id(uint32_t format) { return format == kMetaId || format == kMetaIdScale; }
LUTC_SPEC_HD inline bool meta_has_scale(uint32_t format) { return format == kMetaScale || format == kMetaIdScale; }
// Byte offsets within a record (the id, when there is one, is byte 0).
LUTC_SPEC_HD inline uint32_t meta_scale_offset(uint32_t format) { return format == kMetaIdScale ? 2 : 0; }

struct MetaRecord {
  uint8_t id = 0;      // meaningful when meta_has_id
  uint16_t scale = 0;  // fp16 bits, meaningful when meta_has_scale
};

LUTC_SPEC_HD inline MetaRecord read_meta_record(uint32_t format, const uint8_t* rec) {
  MetaRecord m;
  if (meta_has_id(format)) m.id = rec[0];
  if (meta_has_scale(format)) m.scale = uint16_t(load_le(rec + meta_scale_offset(format), 2));
  return m;
}
// Writes meta_record_bytes(format) bytes at out.
LUTC_SPEC_HD inline void write_meta_record(uint32_t format, const MetaRecord& m, uint8_t* out) {
  for (uint32_t b = 0; b < meta_record_bytes(format); ++b) out[b] = 0;  // the pad byte
  if (meta_has_id(format)) out[0] = m.id;
  if (meta_has_scale(format)) store_le(out + meta_scale_offset(format), m.scale, 2);
}

}  // namespace lutc

#pragma once
// One outlier record of the OUTLIERS segment (docs/isa.md "OUTLIER"): the
// correction the outlier unit adds to an accumulator lane,
//   u32 row (tile-local lane), u32 col (chunk-local column), i64 delta
// all little-endian: delta * activation[col] goes into lane row.
#include <cstdint>

#include "lutc/spec/host_device.h"
#include "lutc/spec/little_endian.h"

namespace lutc {

constexpr uint32_t kOutlierRecordBytes = 16;

struct OutlierRecord {
  uint32_t row = 0, col = 0;
  int64_t delta = 0;
};

LUTC_SPEC_HD inline OutlierRecord read_outlier_record(const uint8_t* rec) {
  OutlierRecord o;
  o.row = uint32_t(load_le(rec, 4));
  o.col = uint32_t(load_le(rec + 4, 4));
  o.delta = int64_t(load_le(rec + 8, 8));
  return o;
}
LUTC_SPEC_HD inline void write_outlier_record(const OutlierRecord& o, uint8_t* out) {
  store_le(out, o.row, 4);
  store_le(out + 4, o.col, 4);
  store_le(out + 8, uint64_t(o.delta), 8);
}

}  // namespace lutc

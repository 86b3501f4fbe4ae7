// libFuzzer: parse_npy must either return an array whose data matches its
// shape or throw lutc::Error.
#include <cstdint>

#include "lutc/model/error.h"
#include "lutc/model/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const lutc::NpyArray a = lutc::parse_npy(data, size, "fuzz.npy");
    if (a.shape.empty() || a.shape.size() > 2 || a.data.size() != a.rows() * a.cols()) __builtin_trap();
  } catch (const lutc::Error&) {
  }
  return 0;
}

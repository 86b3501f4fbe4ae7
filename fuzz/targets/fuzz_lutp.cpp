// libFuzzer: parse_lutp must either return a verified program or throw
// lutc::Error; a verified program must execute without crashing. Re-targeting
// the bytes to the default arch must not crash either.
#include <cstdint>
#include <vector>

#include "lutc/compiler/executor.h"
#include "lutc/compiler/lutp_file.h"
#include "lutc/model/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    lutc::retarget_lutp_head(data, size, lutc::default_arch(), "fuzz.lutp");
  } catch (const lutc::Error&) {
  }
  try {
    const lutc::Program p = lutc::parse_lutp(data, size, "fuzz.lutp");
    if (uint64_t(p.meta.rows) * p.meta.cols > (1u << 22)) return 0;
    std::vector<float> x(p.meta.cols, 0.5f), y(p.meta.rows);
    lutc::execute(p, x.data(), 1, y.data());
  } catch (const lutc::Error&) {
  }
  return 0;
}

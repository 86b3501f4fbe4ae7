// libFuzzer: parse_sweep must either return a sweep whose points all exist
// or throw lutc::Error. The sweep's path sits in examples/arch/, so an
// `arch.file = edge.ini` in the input names a real file.
#include <cstdint>
#include <string>

#include "lutc/explore/sweep.h"
#include "lutc/model/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const lutc::explore::Sweep s = lutc::explore::parse_sweep(text, LUTC_FUZZ_ARCH_DIR "/fuzz-sweep.ini");
    for (size_t i = 0; i < s.points() && i < 64; ++i) {
      (void)s.quant_of(i).quantize_args();
      (void)s.arch_of(i).arch.name;
    }
    (void)s.hash();
  } catch (const lutc::Error&) {
  }
  return 0;
}

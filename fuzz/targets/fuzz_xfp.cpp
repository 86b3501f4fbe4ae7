// libFuzzer: read_xfp must either return layers that validate or throw
// lutc::Error. The reader takes a path, so the input goes through a file.
#include <cstdint>
#include <string>

#include "fuzz_input_file.h"
#include "lutc/model/error.h"
#include "lutc/model/xfp_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = lutc_fuzz::process_dir("xfp") + "/fuzz.xfp";
  if (!lutc_fuzz::write_input(path, data, size)) return 0;
  try {
    const lutc::XfpFile x = lutc::read_xfp(path);
    for (const auto& l : x.layers) lutc::validate(l);
  } catch (const lutc::Error&) {
  }
  return 0;
}

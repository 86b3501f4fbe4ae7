// libFuzzer: read_xfp must either return layers that validate or throw
// lutc::Error. The reader takes a path, so the input goes through a file.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "lutc/model/error.h"
#include "lutc/model/xfp_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/lutc_fuzz_xfp_" + std::to_string(getpid()) + ".xfp";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const lutc::XfpFile x = lutc::read_xfp(path);
    for (const auto& l : x.layers) lutc::validate(l);
  } catch (const lutc::Error&) {
  }
  return 0;
}

// libFuzzer: WeightFile::open on one file must either return a WeightFile
// whose every listed tensor reads (or refuses with lutc::Error), or throw
// lutc::Error. The format is detected from the content, so the same harness
// serves safetensors, llama2.c and GGUF; each target is built with its own
// file name (LUTC_FUZZ_FILE) and fed its own seed corpus (fuzz/corpus/).
#include <cstdint>
#include <string>

#include "fuzz_input_file.h"
#include "lutc/model/error.h"
#include "weight_file_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = lutc_fuzz::process_dir(LUTC_FUZZ_FILE) + "/" LUTC_FUZZ_FILE;
  if (!lutc_fuzz::write_input(path, data, size)) return 0;
  try {
    lutc_fuzz::exercise(*lutc::WeightFile::open(path));
  } catch (const lutc::Error&) {
  }
  return 0;
}

// libFuzzer: llama_config_from_hf must either return a config whose RoPE
// frequencies compute or throw lutc::Error, with and without an lm_head.
#include <cstdint>
#include <string>

#include "lutc/model/error.h"
#include "lutc/model/llama.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const bool has_lm_head : {false, true}) {
    try {
      const lutc::LlamaConfig cfg = lutc::llama_config_from_hf(text, "fuzz/config.json", has_lm_head);
      (void)lutc::rope_inv_freq(cfg);
    } catch (const lutc::Error&) {
    }
  }
  return 0;
}

// libFuzzer: parse_arch must either return an arch that validates, whose
// canonical text parses back to the same canonical text, or throw lutc::Error.
#include <cstdint>
#include <string>

#include "lutc/compiler/arch_config.h"
#include "lutc/model/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  lutc::ArchConfig a;
  try {
    a = lutc::parse_arch(text, "fuzz.ini");
  } catch (const lutc::Error&) {
    return 0;
  }
  lutc::validate_arch(a, "fuzz.ini");  // a parsed arch is a valid one: an Error here is a finding
  const std::string canonical = lutc::canonical_arch_text(a);
  if (lutc::canonical_arch_text(lutc::parse_arch(canonical, "canonical.ini")) != canonical) __builtin_trap();
  (void)lutc::arch_code_key(a);
  return 0;
}

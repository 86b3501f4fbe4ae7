#include "lutc/kernels/cpu/isa.h"

namespace lutc::kernels {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kPortable: return "portable";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "?";
}

bool parse_isa(const std::string& name, Isa* out) {
  for (Isa i : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512})
    if (name == isa_name(i)) {
      *out = i;
      return true;
    }
  return false;
}

bool isa_available(Isa isa) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  switch (isa) {
    case Isa::kPortable: return true;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case Isa::kAvx512:
      return isa_available(Isa::kAvx2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return isa == Isa::kPortable;
#endif
}

Isa best_isa() {
  static const Isa best = isa_available(Isa::kAvx512) ? Isa::kAvx512
                          : isa_available(Isa::kAvx2) ? Isa::kAvx2
                                                      : Isa::kPortable;
  return best;
}

}  // namespace lutc::kernels

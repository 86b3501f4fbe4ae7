#pragma once
// What a harness does with a WeightFile that opened: everything a user
// command does with one (`lutc info`, quantize, eval), on tensors small
// enough to read in a fuzz iteration. Each call either succeeds or throws
// lutc::Error; anything else is a finding.
#include <cstdint>
#include <vector>

#include "lutc/model/error.h"
#include "lutc/model/llama.h"
#include "lutc/model/weights.h"

namespace lutc_fuzz {

inline void exercise(const lutc::WeightFile& w) {
  constexpr uint64_t kMaxReadBytes = 1 << 20;
  for (const lutc::TensorInfo& t : w.tensors()) {
    (void)t.type_name();
    if (w.find(t.name) == nullptr) __builtin_trap();  // every listed tensor is found by name
    if (t.nbytes > kMaxReadBytes) continue;
    try {
      (void)w.read_raw(t);
    } catch (const lutc::Error&) {
    }
    if (!lutc::dtype_is_weight(t.dtype) || t.elements() == 0 || t.elements() * sizeof(float) > kMaxReadBytes) continue;
    try {
      (void)w.read_all(t);
      std::vector<float> row(t.cols());
      if (t.rows() > 0) w.read_rows(t, t.rows() - 1, 1, row.data());
    } catch (const lutc::Error&) {
    }
  }
  try {
    const lutc::LlamaConfig cfg = lutc::llama_config_from(w);
    (void)lutc::rope_inv_freq(cfg);
  } catch (const lutc::Error&) {
  }
}

}  // namespace lutc_fuzz

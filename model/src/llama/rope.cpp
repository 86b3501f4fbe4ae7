// RoPE rotation frequencies and the rope_scaling rules of Hugging Face
// configs (transformers' _compute_linear_scaling_rope_parameters and
// _compute_llama3_parameters).
#include <cmath>

#include "lutc/model/llama.h"

namespace lutc {

std::vector<float> rope_inv_freq(const LlamaConfig& cfg) {
  const uint32_t hs = cfg.head_size();
  const auto& s = cfg.rope_scaling;
  std::vector<float> out;
  for (uint32_t i = 0; i < hs / 2; ++i) {
    double f = 1.0 / std::pow(double(cfg.rope_theta), double(2 * i) / double(hs));
    if (s.type == RopeScaling::kLinear) {
      f /= s.factor;
    } else if (s.type == RopeScaling::kLlama3) {
      // Wavelengths shorter than the original context / high_freq_factor keep
      // their frequency, longer than original / low_freq_factor are divided by
      // factor, and those between blend the two linearly in original / wavelength.
      const double old = s.original_max_pos, wavelen = 2 * M_PI / f;
      const double low_wavelen = old / s.low_freq_factor, high_wavelen = old / s.high_freq_factor;
      if (wavelen > low_wavelen) {
        f /= s.factor;
      } else if (wavelen >= high_wavelen) {
        const double smooth = (old / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        f = (1 - smooth) * f / s.factor + smooth * f;
      }
    }
    out.push_back(float(f));
  }
  return out;
}

}  // namespace lutc

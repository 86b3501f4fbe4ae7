#include "sop_encoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "lutc/model/fp16.h"
#include "lutc/model/sop_scale.h"

namespace lutc::sop {

PreparedCodebook prepare_codebook(const std::vector<uint16_t>& fp16) {
  PreparedCodebook p;
  p.fp16 = fp16;
  std::vector<std::pair<float, uint8_t>> v;
  for (size_t i = 0; i < fp16.size(); ++i) v.push_back({half_to_float(fp16[i]), uint8_t(i)});
  // -0 and +0 are one value; the stable sort keeps the lower code first.
  std::stable_sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  for (const auto& e : v) {
    if (!p.sorted.empty() && p.sorted.back() == e.first) continue;
    p.sorted.push_back(e.first);
    p.sorted_code.push_back(e.second);
  }
  for (size_t i = 1; i < p.sorted.size(); ++i)
    p.mid.push_back(float(0.5 * (double(p.sorted[i - 1]) + double(p.sorted[i]))));
  p.pos_max = std::max(0.0, double(p.sorted.back()));
  p.neg_max = std::max(0.0, -double(p.sorted.front()));
  p.symmetric = true;
  for (size_t i = 0, n = p.sorted.size(); i < n; ++i)
    if (p.sorted[i] != -p.sorted[n - 1 - i]) p.symmetric = false;
  return p;
}

BlockEncoder::BlockEncoder(const SopFormat& f, const PreparedCodebook* a, const PreparedCodebook* b,
                           int layer_exp)
    : f_(f), cb_{a, b}, exp_(layer_exp) {}

double BlockEncoder::try_scale(const float* x, const double* w, uint32_t n, const PreparedCodebook& cb,
                               float sv, uint8_t* codes) const {
  double err = 0;
  const size_t m = cb.mid.size();
  if (sv == 0) {
    // Every code decodes to 0; store the one nearest zero.
    const size_t z = size_t(std::upper_bound(cb.mid.begin(), cb.mid.end(), 0.0f) - cb.mid.begin());
    for (uint32_t k = 0; k < n; ++k) {
      codes[k] = cb.sorted_code[z];
      err += (w ? w[k] : 1.0) * double(x[k]) * double(x[k]);
    }
    return err;
  }
  const double inv = 1.0 / double(sv);
  for (uint32_t k = 0; k < n; ++k) {
    const float t = float(double(x[k]) * inv);
    size_t j;
    if (m <= 16) {
      j = 0;
      for (size_t i = 0; i < m; ++i) j += t > cb.mid[i];
    } else {
      j = size_t(std::upper_bound(cb.mid.begin(), cb.mid.end(), t) - cb.mid.begin());
      // upper_bound puts a tie on the upper side; the counting loop puts it below.
      if (j > 0 && t == cb.mid[j - 1]) --j;
    }
    codes[k] = cb.sorted_code[j];
    const double d = double(x[k]) - double(cb.sorted[j] * sv);  // the decoder's exact fp32 product
    err += (w ? w[k] : 1.0) * d * d;
  }
  return err;
}

BlockCode BlockEncoder::encode(const float* x, const double* w, uint32_t n, uint8_t* codes) const {
  double xmax = 0, xmin = 0;
  for (uint32_t k = 0; k < n; ++k) {
    xmax = std::max(xmax, double(x[k]));
    xmin = std::min(xmin, double(x[k]));
  }
  BlockCode best;
  best.error = INFINITY;
  uint8_t tmp[64];
  const unsigned M = f_.scale_mant_bits;
  const int books = f_.paired ? 2 : 1;
  for (int sel = 0; sel < books; ++sel) {
    const PreparedCodebook& cb = *cb_[sel];
    const int signs = (f_.scale_signed && !cb.symmetric) ? 2 : 1;
    for (int sign = 0; sign < signs; ++sign) {
      // A negative scale mirrors the codebook: its positive tail is the
      // codebook's negative one.
      const double pos = sign ? cb.neg_max : cb.pos_max;
      const double neg = sign ? cb.pos_max : cb.neg_max;
      double ideal = 0;  // the smallest scale that clips nothing
      if (xmax > 0) ideal = std::max(ideal, pos > 0 ? xmax / pos : xmax / neg);
      if (xmin < 0) ideal = std::max(ideal, neg > 0 ? -xmin / neg : -xmin / pos);
      ideal = std::ldexp(ideal, -exp_);
      const unsigned down = ue_round_down(ideal, M), up = ue_round_up(ideal, M);
      // Round-up first, so that ties keep the scale that clips nothing.
      for (unsigned code : {up, down}) {
        float sv = std::ldexp(ue_value(code, M), exp_);
        if (sign) sv = -sv;
        const double e = try_scale(x, w, n, cb, sv, tmp);
        if (e < best.error) {
          best.error = e;
          best.sel = unsigned(sel);
          SopScaleCode sc;
          sc.magnitude = code;
          sc.sel = unsigned(sel);
          sc.sign = unsigned(sign);
          best.scale_code = pack_sop_scale(sc, M, f_.paired, f_.scale_signed);
          std::memcpy(codes, tmp, n);
        }
        if (down == up) break;
      }
    }
  }
  return best;
}

int choose_layer_exp(double amax, const SopFormat& f, const PreparedCodebook* a, const PreparedCodebook* b) {
  if (!(amax > 0)) return 0;
  // The narrowest tail of any codebook in play bounds the largest ideal scale.
  double reach = INFINITY;
  for (const PreparedCodebook* cb : {a, b}) {
    if (!cb) continue;
    for (double t : {cb->pos_max, cb->neg_max})
      if (t > 0) reach = std::min(reach, t);
  }
  if (!std::isfinite(reach)) return 0;
  const double top = ue_value(ue_code_count(f.scale_mant_bits) - 1, f.scale_mant_bits);
  const double need = amax / reach;  // largest ideal scale in weight units
  int e = int(std::ceil(std::log2(need / top)));
  while (std::ldexp(need, -e) > top) ++e;
  while (std::ldexp(need, -(e - 1)) <= top) --e;
  return std::max(-100, std::min(100, e));
}

}  // namespace lutc::sop

#include "sop/sop_encoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "lutc/model/fp16.h"
#include "lutc/model/sop_scale.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace lutc::sop {
namespace {

constexpr unsigned kMaxSpan = 2;  // compares after the bucket lookup, at most

// The float's bits as an unsigned key that increases with the value
// (negative floats reversed below the positive ones; -0 just below +0).
inline uint32_t order_key(float t) {
  uint32_t u;
  std::memcpy(&u, &t, sizeof u);
  return u ^ (uint32_t(int32_t(u) >> 31) | 0x80000000u);
}

// The float with that key; NaN keys stand for the infinity on their side.
float key_value(uint32_t key) {
  const uint32_t u = (key & 0x80000000u) ? (key & 0x7fffffffu) : ~key;
  float f;
  std::memcpy(&f, &u, sizeof f);
  if (std::isnan(f)) return (key & 0x80000000u) ? INFINITY : -INFINITY;
  return f;
}

// #{i : mid[i] < v}
uint8_t count_below(const std::vector<float>& mid, float v) {
  return uint8_t(std::lower_bound(mid.begin(), mid.end(), v) - mid.begin());
}

// The smallest bucket table (from 4096 buckets up to 65536) after which at
// most kMaxSpan midpoints remain to compare; none: keep the counting search.
void build_buckets(PreparedCodebook& p) {
  if (p.mid.size() <= PreparedCodebook::kCountMids || p.mid.size() > 255) return;
  for (unsigned shift = 20; shift >= 16; --shift) {
    const uint32_t buckets = 1u << (32 - shift), low_mask = (1u << shift) - 1u;
    std::vector<uint8_t> base(buckets);
    unsigned span = 0;
    for (uint32_t b = 0; b < buckets; ++b) {
      const uint32_t lo_key = b << shift, hi_key = lo_key | low_mask;
      base[b] = count_below(p.mid, key_value(lo_key));
      span = std::max(span, unsigned(count_below(p.mid, key_value(hi_key)) - base[b]));
    }
    if (span <= kMaxSpan) {
      p.bucket_base = std::move(base);
      p.bucket_shift = shift;
      p.bucket_span = span;
      p.use_buckets = true;
      return;
    }
  }
}

template <unsigned Span>
void bucket_search(const PreparedCodebook& cb, const float* t, uint32_t n, int32_t* j) {
  const uint8_t* base = cb.bucket_base.data();
  const float* mid = cb.mid_padded.data();
  const unsigned shift = cb.bucket_shift;
  for (uint32_t k = 0; k < n; ++k) {
    const int32_t c = base[order_key(t[k]) >> shift];
    int32_t a = c;
    for (unsigned s = 0; s < Span; ++s) a += t[k] > mid[c + s];
    j[k] = a;
  }
}

// #{i : mid[i] < t} by comparing every t with every midpoint; n a multiple
// of 8. Each midpoint is compared with 8 or 16 t at once, the counts held
// in registers.
void count_search(const PreparedCodebook& cb, const float* t, uint32_t n, int32_t* j) {
  const size_t m = cb.mid.size();
#if defined(__SSE2__)
  const float* mid4 = cb.mid_splat.data();  // each midpoint 4 times
  uint32_t k0 = 0;
  for (; k0 + 16 <= n; k0 += 16) {
    const __m128 t0 = _mm_loadu_ps(t + k0), t1 = _mm_loadu_ps(t + k0 + 4);
    const __m128 t2 = _mm_loadu_ps(t + k0 + 8), t3 = _mm_loadu_ps(t + k0 + 12);
    __m128i c0 = _mm_setzero_si128(), c1 = c0, c2 = c0, c3 = c0;
    for (size_t i = 0; i < m; ++i) {
      const __m128 v = _mm_loadu_ps(mid4 + 4 * i);
      // A true compare is all ones, -1 as an integer: subtracting it counts.
      c0 = _mm_sub_epi32(c0, _mm_castps_si128(_mm_cmpgt_ps(t0, v)));
      c1 = _mm_sub_epi32(c1, _mm_castps_si128(_mm_cmpgt_ps(t1, v)));
      c2 = _mm_sub_epi32(c2, _mm_castps_si128(_mm_cmpgt_ps(t2, v)));
      c3 = _mm_sub_epi32(c3, _mm_castps_si128(_mm_cmpgt_ps(t3, v)));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(j + k0), c0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(j + k0 + 4), c1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(j + k0 + 8), c2);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(j + k0 + 12), c3);
  }
  if (k0 < n) {  // 8 left
    const __m128 t0 = _mm_loadu_ps(t + k0), t1 = _mm_loadu_ps(t + k0 + 4);
    __m128i c0 = _mm_setzero_si128(), c1 = c0;
    for (size_t i = 0; i < m; ++i) {
      const __m128 v = _mm_loadu_ps(mid4 + 4 * i);
      c0 = _mm_sub_epi32(c0, _mm_castps_si128(_mm_cmpgt_ps(t0, v)));
      c1 = _mm_sub_epi32(c1, _mm_castps_si128(_mm_cmpgt_ps(t1, v)));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(j + k0), c0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(j + k0 + 4), c1);
  }
#else
  const float* mid = cb.mid.data();
  for (uint32_t k0 = 0; k0 < n; k0 += 8) {
    int32_t c[8] = {};
    for (size_t i = 0; i < m; ++i)
      for (unsigned l = 0; l < 8; ++l) c[l] += t[k0 + l] > mid[i];
    for (unsigned l = 0; l < 8; ++l) j[k0 + l] = c[l];
  }
#endif
}

}  // namespace

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
  // Strictly increasing: distinct fp16 neighbours lie thousands of fp32 ulps apart.
  for (size_t i = 1; i < p.sorted.size(); ++i)
    p.mid.push_back(float(0.5 * (double(p.sorted[i - 1]) + double(p.sorted[i]))));
  p.pos_max = std::max(0.0, double(p.sorted.back()));
  p.neg_max = std::max(0.0, -double(p.sorted.front()));
  p.symmetric = true;
  for (size_t i = 0, n = p.sorted.size(); i < n; ++i)
    if (p.sorted[i] != -p.sorted[n - 1 - i]) p.symmetric = false;
  for (float m : p.mid) p.mid_splat.insert(p.mid_splat.end(), 4, m);
  p.mid_padded = p.mid;
  p.mid_padded.resize(p.mid.size() + kMaxSpan, INFINITY);
  build_buckets(p);
  return p;
}

void nearest_sorted(const PreparedCodebook& cb, const float* t, uint32_t n, int32_t* j) {
  if (cb.use_buckets) {
    switch (cb.bucket_span) {
      case 0: bucket_search<0>(cb, t, n, j); return;
      case 1: bucket_search<1>(cb, t, n, j); return;
      default: bucket_search<kMaxSpan>(cb, t, n, j); return;
    }
  }
  if (n % 8) {  // pad to a multiple of 8 (the padding's counts are dropped)
    float tp[kMaxBlock] = {};
    int32_t jp[kMaxBlock];
    std::copy(t, t + n, tp);
    count_search(cb, tp, (n + 7) & ~7u, jp);
    std::copy(jp, jp + n, j);
    return;
  }
  count_search(cb, t, n, j);
}

BlockEncoder::BlockEncoder(const SopFormat& f, const PreparedCodebook* a, const PreparedCodebook* b, int layer_exp)
    : f_(f), cb_{a, b}, exp_(layer_exp) {
  const unsigned M = f_.scale_mant_bits, codes = ue_code_count(M);
  exp_scale_ = std::ldexp(1.0, -exp_);
  ue_.resize(codes);
  sv_.resize(codes);
  inv_.resize(codes);
  for (unsigned c = 0; c < codes; ++c) {
    const float u = ue_value(c, M);
    ue_[c] = double(u);
    sv_[c] = std::ldexp(u, exp_);
    inv_[c] = 1.0 / double(sv_[c]);  // code 0: inf, never used (a zero scale has its own path)
  }
}

namespace {

constexpr int kMaxTries = 8;  // 2 codebooks x 2 signs x 2 scale codes

// e[c] = term[c][0] + term[c][1] + ... + term[c][n-1], added in that order;
// the T independent sums advance together instead of one after another.
template <int T>
void sum_in_order(const double (*term)[kMaxBlock], uint32_t n, double* e) {
  double acc[T] = {};
  for (uint32_t k = 0; k < n; ++k)
    for (int c = 0; c < T; ++c) acc[c] += term[c][k];
  for (int c = 0; c < T; ++c) e[c] = acc[c];
}

void sum_in_order(const double (*term)[kMaxBlock], int tries, uint32_t n, double* e) {
  switch (tries) {
    case 1: sum_in_order<1>(term, n, e); break;
    case 2: sum_in_order<2>(term, n, e); break;
    case 3: sum_in_order<3>(term, n, e); break;
    case 4: sum_in_order<4>(term, n, e); break;
    case 5: sum_in_order<5>(term, n, e); break;
    case 6: sum_in_order<6>(term, n, e); break;
    case 7: sum_in_order<7>(term, n, e); break;
    default: sum_in_order<8>(term, n, e); break;
  }
}

}  // namespace

// The ideal scales are rounded both ways, so a block gets one or two scale
// codes per (codebook, sign): round-up first, so that ties keep the scale
// that clips nothing.
int BlockEncoder::list_tries(double xmax, double xmin, Try* tries) const {
  int count = 0;
  const unsigned M = f_.scale_mant_bits, top = unsigned(ue_.size()) - 1;
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
      ideal *= exp_scale_;  // == std::ldexp(ideal, -exp_), exact: far inside the double range
      // ue_round_down, then ue_round_up from it (the same definition).
      const unsigned down = ue_round_down(ideal, M);
      const unsigned up = (down == top || ue_[down] == ideal || !(ideal > 0)) ? down : down + 1;
      tries[count++] = {unsigned(sel), unsigned(sign), up};
      if (down != up) tries[count++] = {unsigned(sel), unsigned(sign), down};
    }
  }
  return count;
}

// q[k] = a_k (x_k - decoded_k)^2 against the decoder's exact fp32 product,
// so the error matches what the hardware will reproduce.
void BlockEncoder::score_try(const Try& tr, const double* xd, const double* w, uint32_t n, float* t, int32_t* j,
                             double* q) const {
  const PreparedCodebook& cb = *cb_[tr.sel];
  float sv = sv_[tr.code];
  if (tr.sign) sv = -sv;
  if (sv == 0) {
    // Every code decodes to 0; store the one nearest zero.
    const int32_t z = int32_t(std::upper_bound(cb.mid.begin(), cb.mid.end(), 0.0f) - cb.mid.begin());
    for (uint32_t k = 0; k < n; ++k) {
      j[k] = z;
      q[k] = (w ? w[k] : 1.0) * xd[k] * xd[k];
    }
    return;
  }
  // t_k = x_k / scale in codebook units, then its nearest value.
  const double inv = tr.sign ? -inv_[tr.code] : inv_[tr.code];  // == 1 / double(sv)
  for (uint32_t k = 0; k < n; ++k) t[k] = float(xd[k] * inv);
  nearest_sorted(cb, t, n, j);
  const float* s = cb.sorted.data();
  // Two loops, so the unweighted one carries no per-element branch.
  if (w) {
    for (uint32_t k = 0; k < n; ++k) {
      const double d = xd[k] - double(s[j[k]] * sv);
      q[k] = w[k] * d * d;
    }
  } else {
    for (uint32_t k = 0; k < n; ++k) {
      const double d = xd[k] - double(s[j[k]] * sv);
      q[k] = d * d;  // == 1.0 * d * d
    }
  }
}

namespace {

// The first candidate with the lowest error (a tie keeps the earlier one in
// the documented order); -1 when no error is below infinity.
int first_lowest(const double* e, int count) {
  double best = INFINITY;
  int win = -1;
  for (int c = 0; c < count; ++c)
    if (e[c] < best) {
      best = e[c];
      win = c;
    }
  return win;
}

}  // namespace

// Every candidate (codebook, sign, scale code) in the documented order, each
// error summed over the block in element order, then the first lowest wins:
// the same choice as trying them one after another.
BlockCode BlockEncoder::encode(const float* x, const double* w, uint32_t n, uint8_t* codes) const {
  double xmax = 0, xmin = 0;
  double xd[kMaxBlock];
  for (uint32_t k = 0; k < n; ++k) {
    xd[k] = double(x[k]);
    xmax = std::max(xmax, xd[k]);
    xmin = std::min(xmin, xd[k]);
  }
  Try tries[kMaxTries];
  const int count = list_tries(xmax, xmin, tries);

  double term[kMaxTries][kMaxBlock];  // a_k (x_k - decoded_k)^2
  int32_t j[kMaxTries][kMaxBlock];    // index into the codebook's sorted values
  float t[kMaxBlock];                 // one scratch for every try's x / scale
  for (int c = 0; c < count; ++c) score_try(tries[c], xd, w, n, t, j[c], term[c]);
  double e[kMaxTries];
  sum_in_order(term, count, n, e);

  BlockCode best;
  best.error = INFINITY;
  const int win = first_lowest(e, count);
  if (win >= 0) {
    const Try& tr = tries[win];
    best.error = e[win];
    SopScaleCode sc;
    sc.magnitude = tr.code;
    sc.sel = tr.sel;
    sc.sign = tr.sign;
    best.sel = tr.sel;
    best.scale_code = pack_sop_scale(sc, f_.scale_mant_bits, f_.paired, f_.scale_signed);
    const uint8_t* code_of = cb_[tr.sel]->sorted_code.data();
    for (uint32_t k = 0; k < n; ++k) codes[k] = code_of[j[win][k]];
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

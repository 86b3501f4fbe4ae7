// quantize_sop: one SOP format over a whole layer (docs/sop.md "Quantizing a
// layer"), the DD4 learning step, the pair search and the outlier residual.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>
#include <string>

#include "lutc/model/bitpack.h"
#include "lutc/model/element_formats.h"
#include "lutc/model/error.h"
#include "lutc/model/fp16.h"
#include "lutc/model/golden.h"
#include "lutc/model/metrics.h"
#include "lutc/model/sop.h"
#include "lutc/model/xfp_file.h"
#include "sop/sop_encoder.h"

namespace lutc {

namespace sop {

// A histogram of the top 16 bits (sign, exponent, 4 mantissa bits) finds the
// bucket holding the count-th largest; a selection inside that bucket finishes.
double kth_largest_nonnegative(const std::vector<double>& v, uint64_t count) {
  const auto bucket = [](double x) {
    uint64_t u;
    x = x == 0 ? 0.0 : x;
    std::memcpy(&u, &x, sizeof u);
    return size_t(u >> 48);
  };
  std::vector<uint64_t> hist(size_t(1) << 16, 0);
  for (double x : v) ++hist[bucket(x)];
  uint64_t above = 0;
  size_t b = hist.size() - 1;
  while (above + hist[b] < count) above += hist[b--];
  std::vector<double> in;
  in.reserve(size_t(hist[b]));
  for (double x : v)
    if (bucket(x) == b) in.push_back(x);
  const size_t rank = size_t(count - above - 1);
  std::nth_element(in.begin(), in.begin() + rank, in.end(), std::greater<double>());
  return in[rank];
}

}  // namespace sop

namespace {

using sop::PreparedCodebook;

constexpr size_t kDd4SampleValues = size_t(1) << 20;  // values the DD4 Lloyd step sees at most
constexpr unsigned kDd4Iterations = 40;

struct Matrix {
  const float* w;
  uint32_t rows, cols;
  const double* act;  // column weights or null
};

// Blocks normalized by their absmax, weighted by act * absmax^2 so that the
// Lloyd step minimizes the (activation-weighted) error in weight space.
// `use` selects blocks (null: all); at most kDd4SampleValues values, taken
// from evenly spaced blocks so the sample is deterministic.
std::vector<uint16_t> learn_dd4(const Matrix& m, uint32_t block, const std::vector<uint8_t>* use) {
  const uint32_t gpr = (m.cols + block - 1) / block;
  const uint64_t blocks = uint64_t(m.rows) * gpr;
  uint64_t chosen = 0;
  for (uint64_t i = 0; i < blocks; ++i) chosen += !use || (*use)[i];
  std::vector<float> u, wt;
  const uint64_t stride = std::max<uint64_t>(1, chosen * block / kDd4SampleValues);
  const size_t most = size_t((chosen + stride - 1) / stride) * block;
  u.reserve(most);
  wt.reserve(most);
  uint64_t seen = 0;
  for (uint64_t i = 0; i < blocks; ++i) {
    if (use && !(*use)[i]) continue;
    if (seen++ % stride) continue;
    const float* x = m.w + (i / gpr) * m.cols;
    const uint32_t k0 = uint32_t(i % gpr) * block, k1 = std::min(k0 + block, m.cols);
    double amax = 0;
    for (uint32_t k = k0; k < k1; ++k) amax = std::max(amax, double(std::fabs(x[k])));
    if (amax == 0) continue;
    const size_t at = u.size(), n = k1 - k0;
    u.resize(at + n);
    wt.resize(at + n);
    float* pu = u.data() + at;
    float* pw = wt.data() + at;
    const double a2 = amax * amax;
    for (size_t i = 0; i < n; ++i) pu[i] = float(x[k0 + i] / amax);
    if (m.act)
      for (size_t i = 0; i < n; ++i) pw[i] = float(a2 * m.act[k0 + i]);
    else
      for (size_t i = 0; i < n; ++i) pw[i] = float(a2);  // == a2 * 1.0
  }
  std::vector<double> init;
  for (unsigned i = 0; i < 16; ++i) init.push_back(kNf4Levels[i]);
  if (u.empty()) init.assign(kNf4Levels, kNf4Levels + 16);
  const auto lv = u.empty() ? init : lloyd_levels(u, wt, 16, init, {-1.0, 1.0}, kDd4Iterations);
  std::vector<uint16_t> h;
  for (double v : lv) h.push_back(float_to_half(float(v)));
  return h;
}

struct Encoded {
  std::vector<uint8_t> codes;
  std::vector<uint16_t> scales;
  std::vector<uint8_t> sel;
  double error = 0;
  int exp = 0;
};

Encoded encode_all(const Matrix& m, const SopFormat& f, const PreparedCodebook& a, const PreparedCodebook* b) {
  Encoded e;
  double amax = 0;
  for (uint64_t i = 0; i < uint64_t(m.rows) * m.cols; ++i) amax = std::max(amax, double(std::fabs(m.w[i])));
  e.exp = sop::choose_layer_exp(amax, f, &a, b);
  const sop::BlockEncoder enc(f, &a, b, e.exp);
  const uint32_t gpr = (m.cols + f.block - 1) / f.block;
  e.codes.resize(size_t(m.rows) * m.cols);
  e.scales.resize(size_t(m.rows) * gpr);
  e.sel.resize(e.scales.size());
  for (uint32_t r = 0; r < m.rows; ++r)
    for (uint32_t g = 0; g < gpr; ++g) {
      const uint32_t k0 = g * f.block, n = std::min(f.block, m.cols - k0);
      const size_t at = size_t(r) * m.cols + k0;
      const sop::BlockCode bc = enc.encode(m.w + at, m.act ? m.act + k0 : nullptr, n, e.codes.data() + at);
      e.scales[size_t(r) * gpr + g] = bc.scale_code;
      e.sel[size_t(r) * gpr + g] = uint8_t(bc.sel);
      e.error += bc.error;
    }
  return e;
}

QuantizedLayer skeleton(const std::string& name, Role role, uint32_t rows, uint32_t cols, const SopFormat& f) {
  QuantizedLayer l;
  l.name = name;
  l.role = role;
  l.rows = rows;
  l.cols = cols;
  l.scheme = Scheme::kSop;
  l.bits = uint8_t(f.bits());
  l.group = f.block;
  l.sop_scale_mant_bits = uint8_t(f.scale_mant_bits);
  l.sop_scale_signed = f.scale_signed;
  l.sop_paired = f.paired;
  l.params["sop.format"] = f.name();
  return l;
}

uint64_t outlier_count(const SopFormat& f, uint64_t elements) {
  return uint64_t(std::llround(f.outlier_pct / 100.0 * double(elements)));
}

// The fp16 residual of the `count` elements with the largest weighted squared
// error (ties: the lower index).
void add_outliers(QuantizedLayer& l, const Matrix& m, uint64_t count) {
  if (count == 0) return;
  std::vector<float> w_hat(size_t(l.elements()));
  golden_decode(l, w_hat.data());
  const uint64_t n = l.elements();
  count = std::min<uint64_t>(count, n);
  std::vector<double> s(static_cast<size_t>(n));
  bool ordered = true;  // every score >= 0: their bits sort like their values
  for (uint64_t r = 0, i = 0; r < m.rows; ++r)
    for (uint32_t k = 0; k < m.cols; ++k, ++i) {
      const double d = double(m.w[i]) - double(w_hat[i]);
      s[i] = (m.act ? m.act[k] : 1.0) * d * d;
      ordered &= s[i] >= 0;
    }
  // The count-th largest score; every larger one is picked, then the lowest
  // indices among those equal to it.
  const double cut = ordered ? sop::kth_largest_nonnegative(s, count) : [&] {
    std::vector<double> c(s);
    std::nth_element(c.begin(), c.begin() + (count - 1), c.end(), std::greater<double>());
    return c[count - 1];
  }();
  std::vector<uint64_t> pick, tied;
  pick.reserve(count);
  for (uint64_t i = 0; i < n; ++i) {
    if (s[i] > cut)
      pick.push_back(i);
    else if (s[i] == cut && tied.size() < count)
      tied.push_back(i);
  }
  tied.resize(count - pick.size());
  pick.insert(pick.end(), tied.begin(), tied.end());
  std::sort(pick.begin(), pick.end());
  OutlierCsr& o = l.outliers;
  o.row_ptr.assign(size_t(l.rows) + 1, 0);
  o.col.reserve(pick.size());
  o.val.reserve(pick.size());
  for (uint64_t i : pick) {
    const float res = m.w[i] - w_hat[i];
    o.row_ptr[i / l.cols + 1]++;
    o.col.push_back(uint32_t(i % l.cols));
    o.val.push_back(float_to_half(std::max(-kHalfMax, std::min(kHalfMax, res))));
  }
  for (uint32_t r = 0; r < l.rows; ++r) o.row_ptr[r + 1] += o.row_ptr[r];
}

// One fixed (or fixed x DD4) format over the whole matrix.
QuantizedLayer quantize_fixed(const std::string& name, Role role, const Matrix& m, const SopFormat& f, double* sel_b) {
  std::vector<uint16_t> book_a =
      sop_codebook_is_dynamic(f.a) ? learn_dd4(m, f.block, nullptr) : sop_fixed_codebook(f.a);
  std::vector<uint16_t> book_b;
  if (f.paired) book_b = sop_codebook_is_dynamic(f.b) ? learn_dd4(m, f.block, nullptr) : sop_fixed_codebook(f.b);
  PreparedCodebook pa = sop::prepare_codebook(book_a), pb;
  if (f.paired) pb = sop::prepare_codebook(book_b);
  Encoded e = encode_all(m, f, pa, f.paired ? &pb : nullptr);
  if (f.paired && sop_codebook_is_dynamic(f.b)) {
    // One EM step: refit DD4 to the blocks it won, keep it if the layer error drops.
    std::vector<uint8_t> won(e.sel.begin(), e.sel.end());
    if (std::accumulate(won.begin(), won.end(), uint64_t(0)) > 0) {
      std::vector<uint16_t> refit = learn_dd4(m, f.block, &won);
      PreparedCodebook pr = sop::prepare_codebook(refit);
      Encoded e2 = encode_all(m, f, pa, &pr);
      if (e2.error < e.error) {
        e = std::move(e2);
        book_b = refit;
      }
    }
  }
  QuantizedLayer l = skeleton(name, role, m.rows, m.cols, f);
  l.layer_scale_exp = e.exp;
  l.codebooks = book_a;
  l.codebooks.insert(l.codebooks.end(), book_b.begin(), book_b.end());
  l.block_scales = std::move(e.scales);
  l.indices.resize(packed_bytes(l.elements(), l.bits));
  pack_indices(e.codes.data(), l.elements(), l.bits, l.indices.data());
  add_outliers(l, m, outlier_count(f, l.elements()));
  if (sel_b) {
    uint64_t n = 0;
    for (uint8_t s : e.sel) n += s;
    *sel_b = e.sel.empty() ? 0 : double(n) / double(e.sel.size());
  }
  return l;
}

// Sum over live rows of (1 - ACos), plus min and mean.
struct AcosStats {
  double error = 0, min = 1, mean = 1;
};
AcosStats acos_stats(const Matrix& m, const QuantizedLayer& l) {
  std::vector<float> w_hat(size_t(l.elements()));
  golden_decode(l, w_hat.data());
  AcosStats s;
  double sum = 0;
  uint32_t live = 0;
  for (uint32_t r = 0; r < m.rows; ++r) {
    const float* row = m.w + size_t(r) * m.cols;
    if (row_is_dead(row, m.cols)) continue;
    const double c = acos_row(row, w_hat.data() + size_t(r) * m.cols, m.act, m.cols);
    s.error += 1 - c;
    s.min = std::min(s.min, c);
    sum += c;
    ++live;
  }
  s.mean = live ? sum / live : 1;
  return s;
}

// Every pair the search tries: fixed x fixed, then fixed x DD4.
std::vector<SopFormat> pair_candidates(const SopFormat& f) {
  std::vector<SopFormat> v;
  const auto fixed = sop_fixed_4bit_codebooks();
  for (size_t i = 0; i < fixed.size(); ++i) {
    for (size_t j = i + 1; j <= fixed.size(); ++j) {
      SopFormat c = f;
      c.pair_search = false;
      c.paired = true;
      c.a = fixed[i];
      c.b = j < fixed.size() ? fixed[j] : SopCodebook::kDd4;
      v.push_back(c);
    }
  }
  return v;
}

}  // namespace

double acos_row(const float* w, const float* w_hat, const double* a, uint32_t cols) {
  double ww = 0, hh = 0, wh = 0;
  for (uint32_t k = 0; k < cols; ++k) {
    const double s = a ? a[k] : 1.0;
    ww += s * double(w[k]) * double(w[k]);
    hh += s * double(w_hat[k]) * double(w_hat[k]);
    wh += s * double(w[k]) * double(w_hat[k]);
  }
  if (ww == 0 && hh == 0) return 1;
  if (ww == 0 || hh == 0) return 0;
  return wh / std::sqrt(ww * hh);
}

uint64_t sop_stored_bits(const std::string& name, uint32_t rows, uint32_t cols, const SopFormat& f) {
  QuantizedLayer l = skeleton(name, Role::kOther, rows, cols, f);
  l.indices.resize(packed_bytes(l.elements(), l.bits));
  l.codebooks.resize((f.paired ? 2u : 1u) << l.bits);
  l.block_scales.resize(size_t(rows) * l.groups_per_row());
  const uint64_t n = outlier_count(f, l.elements());
  if (n) {
    l.outliers.row_ptr.resize(size_t(rows) + 1);
    l.outliers.col.resize(size_t(n));
    l.outliers.val.resize(size_t(n));
  }
  return stored_bits(l);
}

QuantizedLayer quantize_sop(const std::string& name, Role role, const float* w, uint32_t rows, uint32_t cols,
                            const SopOptions& opt, SopChoice* choice) {
  if (rows == 0 || cols == 0) fail_input("", name, -1, "empty matrix");
  for (uint64_t i = 0; i < uint64_t(rows) * cols; ++i)
    if (!std::isfinite(w[i]))
      fail_input(
          "", name, -1,
          "weight at row " + std::to_string(i / cols) + ", column " + std::to_string(i % cols) + " is not finite");
  if (opt.act && opt.act->size() != cols)
    fail_input("", name, -1,
               "activation statistics have " + std::to_string(opt.act->size()) + " values, the layer has " +
                   std::to_string(cols) + " columns");
  const Matrix m{w, rows, cols, opt.act ? opt.act->data() : nullptr};
  SopFormat f = opt.format;
  unsigned tried = 1;
  if (f.pair_search) {
    // Score every pair on evenly spaced rows, then quantize the layer with the winner.
    const uint32_t n = std::min(rows, std::max<uint32_t>(1, opt.search_rows));
    std::vector<float> sub(size_t(n) * cols);
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t r = uint32_t(uint64_t(i) * rows / n);
      std::copy(w + size_t(r) * cols, w + size_t(r + 1) * cols, sub.begin() + size_t(i) * cols);
    }
    const Matrix ms{sub.data(), n, cols, m.act};
    double best = INFINITY;
    tried = 0;
    for (const SopFormat& c : pair_candidates(f)) {
      const double e = acos_stats(ms, quantize_fixed(name, role, ms, c, nullptr)).error;
      ++tried;
      if (e < best) {
        best = e;
        f = c;
      }
    }
  }
  double sel_b = 0;
  QuantizedLayer l = quantize_fixed(name, role, m, f, &sel_b);
  validate(l);
  if (choice) {
    const AcosStats s = acos_stats(m, l);
    choice->format = f;
    choice->act_weighted = m.act != nullptr;
    choice->acos_min = s.min;
    choice->acos_mean = s.mean;
    choice->acos_error = s.error;
    choice->sel_b_fraction = sel_b;
    choice->configs_tried = tried;
  }
  return l;
}

}  // namespace lutc

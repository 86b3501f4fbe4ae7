// How a synthetic matrix is made (all draws via portable_random.h, so a seed
// gives the same bits on every platform and thread count):
//  - a layout stream picks the outlier columns and the dead rows;
//  - each row has its own stream: first its scale, 0.02 * exp(sigma * N(0,1))
//    (log-normal, median 0.02), then its elements, Student-t(nu) scaled to unit
//    variance (when nu > 2) times the row scale, times outlier_gain in the
//    outlier columns; dead rows are all zero.
#include "lutc/model/synth.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "core/portable_random.h"
#include "lutc/model/error.h"

namespace lutc {
namespace {

// Median per-row element std: trained LLM projection weights sit around 0.02.
constexpr double kMedianRowStd = 0.02;

// Streams derived from the seed; each row has its own, so rows can be made in
// any order, on any number of threads, with identical results.
constexpr uint64_t kLayoutStream = 0x6c61796f7574ull;  // outlier columns, dead rows
constexpr uint64_t kRowStreamBase = 0x726f7773ull << 32;

void check_spec(const SynthSpec& s) {
  auto bad = [](const std::string& what) { throw Error(ExitCode::kUsage, "synthetic matrix: " + what); };
  if (s.rows == 0 || s.cols == 0) bad("rows and cols must be positive");
  if (!(s.student_nu > 0) || !std::isfinite(s.student_nu)) bad("student_nu must be a positive number");
  if (!(s.row_norm_sigma >= 0) || s.row_norm_sigma > 10) bad("row_norm_sigma must be in [0, 10]");
  if (!(s.outlier_col_frac >= 0 && s.outlier_col_frac <= 1)) bad("outlier_col_frac must be in [0, 1]");
  if (!(s.dead_row_frac >= 0 && s.dead_row_frac <= 1)) bad("dead_row_frac must be in [0, 1]");
  if (!std::isfinite(s.outlier_gain)) bad("outlier_gain must be finite");
}

// How many of n items a fraction selects: at least one when the fraction is positive.
uint32_t count_of(double frac, uint32_t n) {
  if (frac <= 0) return 0;
  return uint32_t(std::clamp<double>(std::floor(frac * n + 0.5), 1, n));
}

// k distinct indices of [0, n) marked in a mask (partial Fisher-Yates).
std::vector<uint8_t> pick(std::mt19937_64& g, uint32_t n, uint32_t k) {
  std::vector<uint32_t> idx(n);
  for (uint32_t i = 0; i < n; ++i) idx[i] = i;
  std::vector<uint8_t> mask(n, 0);
  for (uint32_t i = 0; i < k; ++i) {
    std::swap(idx[i], idx[i + portable::below(g, n - i)]);
    mask[idx[i]] = 1;
  }
  return mask;
}

struct Layout {
  std::vector<uint8_t> outlier_col, dead_row;
};

Layout make_layout(const SynthSpec& s) {
  std::mt19937_64 g(portable::mix(s.seed, kLayoutStream));
  Layout l;
  l.outlier_col = pick(g, s.cols, count_of(s.outlier_col_frac, s.cols));
  l.dead_row = pick(g, s.rows, count_of(s.dead_row_frac, s.rows));
  return l;
}

void make_row(const SynthSpec& s, const Layout& l, uint32_t r, float* out) {
  if (l.dead_row[r]) {
    std::fill(out, out + s.cols, 0.0f);
    return;
  }
  std::mt19937_64 g(portable::mix(s.seed, kRowStreamBase + r));
  const double row_scale = kMedianRowStd * portable::exp(s.row_norm_sigma * portable::normal(g));
  // Student-t has variance nu/(nu-2); scale it to 1 where that is finite.
  const double unit = s.student_nu > 2 ? std::sqrt((s.student_nu - 2) / s.student_nu) : 1.0;
  const double base = row_scale * unit, outlier = base * s.outlier_gain;
  for (uint32_t c = 0; c < s.cols; ++c) {
    const double t = portable::student_t(g, s.student_nu);
    out[c] = float(t * (l.outlier_col[c] ? outlier : base));
  }
}

}  // namespace

std::vector<float> synth_matrix(const SynthSpec& spec) {
  check_spec(spec);
  const Layout layout = make_layout(spec);
  std::vector<float> w(size_t(spec.rows) * spec.cols);

  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const uint32_t n_threads = std::min<uint32_t>({hw, 8u, spec.rows / 64 + 1});
  auto work = [&](uint32_t t) {
    for (uint32_t r = t; r < spec.rows; r += n_threads) make_row(spec, layout, r, &w[size_t(r) * spec.cols]);
  };
  std::vector<std::thread> threads;
  for (uint32_t t = 1; t < n_threads; ++t) threads.emplace_back(work, t);
  work(0);
  for (std::thread& th : threads) th.join();
  return w;
}

std::vector<SynthTensor> default_synth_set(uint64_t seed) {
  std::vector<SynthTensor> set(2);
  set[0].name = "synth.attn.q_proj.weight";
  set[0].spec.rows = 4096;
  set[0].spec.cols = 4096;
  set[1].name = "synth.mlp.up_proj.weight";
  set[1].spec.rows = 11008;
  set[1].spec.cols = 4096;
  // Distinct derived seeds: with seed and seed+1 one tensor's rows would
  // repeat another's under a neighbouring seed.
  for (size_t i = 0; i < set.size(); ++i) set[i].spec.seed = portable::mix(seed, i + 1);
  return set;
}

}  // namespace lutc

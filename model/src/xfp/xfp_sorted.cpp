#include "xfp/xfp_sorted.h"

#include <algorithm>
#include <cstring>

#include "xfp/xfp_parallel.h"

namespace lutc::xfp {
namespace {

inline uint32_t sort_key(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
inline float key_value(uint32_t k) {
  const uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace

namespace {

// Item layouts the radix core sorts: (key << 32 | column) words when the
// permutation is wanted, bare keys when only the values are.
template <class Item>
struct ItemKey {
  static constexpr int kShift = sizeof(Item) == 8 ? 32 : 0;
  static uint32_t key(Item it) { return uint32_t(it >> kShift); }
};

// Sorts items[0..n) ascending (into *src on return; `other` is scratch of the
// same size). Items are compared whole: with the column in the low word,
// ascending items are the stable order, and a scatter moves one word. LSD
// radix on the top two key digits (bits 11..31, 11 and 10 bits: the counters
// fit in L1), then insertion sort finishes the low 11 bits: in trained or
// Gaussian-like rows few values share their top 21 bits (a relative step of
// 2^-12), so that costs about one compare per value where a third scatter pass
// would cost a random write. A row where the insertion moves too much (values
// packed in a tiny relative range) is sorted again from scratch with all
// three digits; the result is the same.
template <class Item, class MakeItem>
Item* radix_sort(uint32_t n, Item* items, Item* other, MakeItem make_item) {
  using K = ItemKey<Item>;
  constexpr int kBins = 2048;
  thread_local std::vector<uint32_t> hist_store(size_t(3) * kBins);
  // Only the two digits the radix passes use are counted up front; the low
  // digit's counters are filled only on the fallback.
  std::fill(hist_store.begin() + kBins, hist_store.begin() + 3 * kBins, 0);
  uint32_t* hist[3] = {hist_store.data(), hist_store.data() + kBins, hist_store.data() + 2 * kBins};
  for (uint32_t i = 0; i < n; ++i) {
    const Item it = make_item(i);
    const uint32_t k = K::key(it);
    items[i] = it;
    ++hist[1][(k >> 11) & 2047];
    ++hist[2][k >> 22];
  }
  auto radix_pass = [&](Item*& src, Item*& dst, int digit) {
    const int shift = 11 * digit;
    const int bins = digit == 2 ? kBins / 2 : kBins;  // the top digit has 10 bits
    uint32_t* h = hist[digit];
    if (h[(K::key(src[0]) >> shift) & 2047] == n) return;  // every key shares this digit
    uint32_t sum = 0;
    for (int d = 0; d < bins; ++d) {
      const uint32_t c = h[d];
      h[d] = sum;
      sum += c;
    }
    for (uint32_t i = 0; i < n; ++i) dst[h[(K::key(src[i]) >> shift) & 2047]++] = src[i];
    std::swap(src, dst);
  };
  Item *src = items, *dst = other;
  radix_pass(src, dst, 1);
  radix_pass(src, dst, 2);
  uint64_t moves = 0;
  const uint64_t budget = 8 * uint64_t(n);
  for (uint32_t i = 1; i < n && moves <= budget; ++i) {
    const Item t = src[i];
    uint32_t j = i;
    while (j > 0 && src[j - 1] > t) {
      src[j] = src[j - 1];
      --j;
    }
    moves += i - j;
    src[j] = t;
  }
  if (moves <= budget) return src;
  src = items;
  dst = other;
  std::fill(hist_store.begin(), hist_store.end(), 0);
  for (uint32_t i = 0; i < n; ++i) {
    const Item it = make_item(i);
    const uint32_t k = K::key(it);
    src[i] = it;
    ++hist[0][k & 2047];
    ++hist[1][(k >> 11) & 2047];
    ++hist[2][k >> 22];
  }
  for (int digit = 0; digit < 3; ++digit) radix_pass(src, dst, digit);
  return src;
}

}  // namespace

void sort_with_perm(const float* x, uint32_t n, float* v, uint32_t* perm) {
  if (n <= 64) {
    // Insertion sort: short groups are the v2a common case.
    for (uint32_t i = 0; i < n; ++i) {
      const float xi = x[i];
      const uint32_t ki = sort_key(xi);
      uint32_t j = i;
      while (j > 0 && sort_key(v[j - 1]) > ki) {
        v[j] = v[j - 1];
        perm[j] = perm[j - 1];
        --j;
      }
      v[j] = xi;
      perm[j] = i;
    }
    return;
  }
  thread_local std::vector<uint64_t> ia, ib;
  ia.resize(n);
  ib.resize(n);
  const uint64_t* s =
      radix_sort<uint64_t>(n, ia.data(), ib.data(), [x](uint32_t i) { return (uint64_t(sort_key(x[i])) << 32) | i; });
  for (uint32_t i = 0; i < n; ++i) {
    v[i] = key_value(uint32_t(s[i] >> 32));
    perm[i] = uint32_t(s[i]);
  }
}

namespace {

// Values whose low 16 bits are all zero (a bf16 checkpoint's weights): the
// same order on 16-bit keys of the top half, LSD radix on two byte digits,
// no insertion pass.
// Branch-free (signs are random, a branch would mispredict half the time):
// a negative b flips every bit, a positive one only the sign.
inline uint16_t sort_key16(uint16_t b) {
  const uint16_t flip = uint16_t(0x8000u | ((0u - uint32_t(b >> 15)) & 0x7fffu));
  return uint16_t(b ^ flip);
}
inline float key16_value(uint16_t k) {
  const uint16_t flip = uint16_t(0xffffu ^ ((0u - uint32_t(k >> 15)) & 0x7fffu));
  const uint32_t u = uint32_t(uint16_t(k ^ flip)) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

bool sort_values_16(const float* x, uint32_t n, float* v) {
  uint32_t low = 0;
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, x + i, 4);
    low |= u;
  }
  if (low & 0xffffu) return false;
  thread_local std::vector<uint16_t> ka, kb;
  ka.resize(n);
  kb.resize(n);
  // Most values share a few sign-and-exponent bytes, so a scatter that walks
  // the row in order bumps the same bin offset again and again, each bump
  // waiting for the last. The row is scattered as kParts interleaved parts
  // with offsets of their own (part p's items of a bin follow part p - 1's),
  // which keeps the order stable and gives kParts independent chains.
  constexpr uint32_t kParts = 4;
  uint32_t start[kParts + 1];
  for (uint32_t p = 0; p <= kParts; ++p) start[p] = uint32_t(uint64_t(n) * p / kParts);
  uint32_t hist[2][kParts][256] = {};
  for (uint32_t p = 0; p < kParts; ++p)
    for (uint32_t i = start[p]; i < start[p + 1]; ++i) {
      uint32_t u;
      std::memcpy(&u, x + i, 4);
      const uint16_t k = sort_key16(uint16_t(u >> 16));
      ka[i] = k;
      ++hist[0][p][k & 0xff];
    }
  uint16_t *src = ka.data(), *dst = kb.data();
  const uint32_t common = start[1] - start[0];  // every part has at least this many
  for (int digit = 0; digit < 2; ++digit) {
    const int shift = 8 * digit;
    uint32_t(*h)[256] = hist[digit];
    if (digit == 1)  // the parts of the second pass hold what the first left there
      for (uint32_t p = 0; p < kParts; ++p)
        for (uint32_t i = start[p]; i < start[p + 1]; ++i) ++h[p][src[i] >> 8];
    const uint32_t d0 = (src[0] >> shift) & 0xff;
    if (h[0][d0] + h[1][d0] + h[2][d0] + h[3][d0] == n) continue;  // every key shares this digit
    uint32_t sum = 0;
    for (int d = 0; d < 256; ++d)
      for (uint32_t p = 0; p < kParts; ++p) {
        const uint32_t c = h[p][d];
        h[p][d] = sum;
        sum += c;
      }
    for (uint32_t i = 0; i < common; ++i)
      for (uint32_t p = 0; p < kParts; ++p) {
        const uint16_t k = src[start[p] + i];
        dst[h[p][(k >> shift) & 0xff]++] = k;
      }
    for (uint32_t p = 0; p < kParts; ++p)
      for (uint32_t i = start[p] + common; i < start[p + 1]; ++i) dst[h[p][(src[i] >> shift) & 0xff]++] = src[i];
    std::swap(src, dst);
  }
  for (uint32_t i = 0; i < n; ++i) v[i] = key16_value(src[i]);
  return true;
}

}  // namespace

void sort_values(const float* x, uint32_t n, float* v) {
  // Half the bytes per scatter of sort_with_perm; equal keys are equal
  // values, so v is exactly the v sort_with_perm writes.
  if (n == 0 || sort_values_16(x, n, v)) return;
  thread_local std::vector<uint32_t> ka, kb;
  ka.resize(n);
  kb.resize(n);
  const uint32_t* s = radix_sort<uint32_t>(n, ka.data(), kb.data(), [x](uint32_t i) { return sort_key(x[i]); });
  for (uint32_t i = 0; i < n; ++i) v[i] = key_value(s[i]);
}

SortedMatrix sorted_matrix_storage(uint32_t rows, uint32_t cols, uint32_t group, bool with_perm) {
  SortedMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.group = (group == 0 || group > cols) ? cols : group;
  m.groups = cols ? (cols + m.group - 1) / m.group : 0;
  m.v.resize(size_t(rows) * cols);
  if (with_perm || m.groups > 1) m.perm.resize(size_t(rows) * cols);
  m.median.resize(rows);
  return m;
}

void sort_row(const float* row, uint32_t r, SortedMatrix* m) {
  const uint32_t cols = m->cols;
  if (cols == 0) return;
  float* v = m->v.data() + size_t(r) * cols;
  if (m->groups == 1) {
    if (m->perm.empty())
      sort_values(row, cols, v);
    else
      sort_with_perm(row, cols, v, m->perm.data() + size_t(r) * cols);
    m->median[r] = v[cols / 2];
    return;
  }
  // Groups: one sort of the whole row (the median comes with it), then a
  // stable pass dealing each value to its group. The sort is stable, so each
  // group ends up exactly as sorting it alone would leave it, for less than
  // one small radix sort (with its 4 x 256 histogram) per group.
  thread_local std::vector<float> rv;
  thread_local std::vector<uint32_t> rp, fill;
  rv.resize(cols);
  rp.resize(cols);
  sort_with_perm(row, cols, rv.data(), rp.data());
  m->median[r] = rv[cols / 2];
  uint32_t* p = m->perm.data() + size_t(r) * cols;
  fill.resize(m->groups);
  for (uint32_t g = 0; g < m->groups; ++g) fill[g] = g * m->group;
  for (uint32_t i = 0; i < cols; ++i) {
    const uint32_t c = rp[i], pos = fill[c / m->group]++;
    v[pos] = rv[i];
    p[pos] = c;
  }
}

SortedMatrix sort_matrix(const float* w, uint32_t rows, uint32_t cols, uint32_t group, unsigned threads) {
  SortedMatrix m = sorted_matrix_storage(rows, cols, group);
  parallel_rows(rows, threads, [&](uint32_t r0, uint32_t r1) {
    for (uint32_t r = r0; r < r1; ++r) sort_row(w + size_t(r) * cols, r, &m);
  });
  return m;
}

void RowRuns::build(const SortedMatrix& m, uint32_t r) {
  s1.resize(size_t(m.cols) + m.groups);
  s2.resize(size_t(m.cols) + m.groups);
  runs.resize(m.groups);
  for (uint32_t g = 0; g < m.groups; ++g) {
    const uint32_t n = m.group_len(g);
    const size_t base = size_t(g) * m.group + g;
    const float* v = m.group_values(r, g);
    prefix_sums(v, n, s1.data() + base, s2.data() + base);
    runs[g] = Run{v, s1.data() + base, s2.data() + base, n};
  }
}

void outlier_trims(const SortedMatrix& m, uint32_t r, uint32_t count, Trims* t) {
  t->lo.assign(m.groups, 0);
  t->hi.resize(m.groups);
  for (uint32_t g = 0; g < m.groups; ++g) t->hi[g] = m.group_len(g);
  if (count == 0) return;
  const double med = m.median[r];
  // Candidates are the two ends of every group; a linear scan over groups per
  // pick is cheap for the group counts used here (<= cols / 128 or 1) and
  // keeps the tie rule obvious.
  for (uint32_t picked = 0; picked < count; ++picked) {
    double best = -1;
    uint32_t bg = 0;
    bool high = false;
    for (uint32_t g = 0; g < m.groups; ++g) {
      if (t->lo[g] >= t->hi[g]) continue;
      const float* v = m.group_values(r, g);
      const double dh = double(v[t->hi[g] - 1]) - med;
      const double dl = med - double(v[t->lo[g]]);
      if (dh > best) {
        best = dh;
        bg = g;
        high = true;
      }
      if (dl > best) {
        best = dl;
        bg = g;
        high = false;
      }
    }
    if (best < 0) break;  // nothing left
    if (high)
      --t->hi[bg];
    else
      ++t->lo[bg];
  }
}

}  // namespace lutc::xfp

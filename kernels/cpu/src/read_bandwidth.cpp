#include "lutc/kernels/cpu/read_bandwidth.h"

#include <immintrin.h>

#include <atomic>

// GCC 12's AVX-512 reductions start from _mm512_undefined_*(), which
// -W(maybe-)uninitialized reports at every use.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace lutc::kernels {
namespace {

__attribute__((target("avx512f"))) uint64_t sum_avx512(const uint8_t* p, size_t n) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 256 <= n; i += 256) {
    a0 = _mm512_add_epi64(a0, _mm512_load_si512(p + i));
    a1 = _mm512_add_epi64(a1, _mm512_load_si512(p + i + 64));
    a2 = _mm512_add_epi64(a2, _mm512_load_si512(p + i + 128));
    a3 = _mm512_add_epi64(a3, _mm512_load_si512(p + i + 192));
  }
  uint64_t s = uint64_t(_mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3))));
  for (; i < n; ++i) s += p[i];
  return s;
}

__attribute__((target("avx2"))) uint64_t sum_avx2(const uint8_t* p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 128 <= n; i += 128) {
    a0 = _mm256_add_epi64(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
    a2 = _mm256_add_epi64(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 64)));
    a3 = _mm256_add_epi64(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 96)));
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes),
                     _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3)));
  uint64_t s = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < n; ++i) s += p[i];
  return s;
}

uint64_t sum_portable(const uint8_t* p, size_t n) {
  uint64_t s = 0;
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = 0;
    for (size_t j = i; j < i + 8 && j < n; ++j) v |= uint64_t(p[j]) << (8 * (j - i));
    s += v;
  }
  return s;
}

}  // namespace

uint64_t stream_read(const uint8_t* buf, size_t n, ThreadPool* pool, Isa isa) {
  auto sum = isa == Isa::kAvx512 ? sum_avx512 : isa == Isa::kAvx2 ? sum_avx2 : sum_portable;
  const unsigned threads = pool ? pool->threads() : 1;
  // Ranges start on 64-byte boundaries (buf is 64-byte aligned) for the aligned loads.
  const size_t step = (n / threads + 63) / 64 * 64;
  std::atomic<uint64_t> total{0};
  auto part = [&](size_t t) {
    const size_t a = std::min(n, t * step), b = t + 1 == threads ? n : std::min(n, (t + 1) * step);
    total += sum(buf + a, b - a);
  };
  if (pool)
    pool->run(threads, part);
  else
    part(0);
  return total.load();
}

}  // namespace lutc::kernels

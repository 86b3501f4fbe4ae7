#pragma once
// Spreads rows [0, rows) over the pool in contiguous chunks: each thread
// streams long runs of the index array, which keeps the hardware prefetcher
// ahead, and a few chunks per thread even out a slower core.
#include <algorithm>
#include <cstdint>

#include "lutc/kernels/cpu/thread_pool.h"

namespace lutc::kernels {

template <class F>
void run_rows(ThreadPool* pool, uint32_t rows, F&& f) {
  const unsigned threads = pool ? pool->threads() : 1;
  if (threads <= 1 || rows < 16) {
    f(0u, rows);
    return;
  }
  const uint32_t chunks = std::min<uint32_t>(rows / 8, threads * 4);
  const uint32_t step = (rows + chunks - 1) / chunks;
  pool->run(chunks, [&](size_t c) {
    const uint32_t r0 = uint32_t(c) * step;
    if (r0 < rows) f(r0, std::min(rows, r0 + step));
  });
}

}  // namespace lutc::kernels

#pragma once
// Row-parallel loops for the quantizer: rows are independent, so contiguous
// row blocks go to std::threads; one thread runs inline with no thread cost.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

namespace lutc::xfp {

// Calls fn(r0, r1) on disjoint row ranges covering [0, rows).
template <class Fn>
void parallel_rows(uint32_t rows, unsigned threads, Fn&& fn) {
  const unsigned t = std::max(1u, std::min<unsigned>(threads, rows ? rows : 1));
  if (t == 1) {
    fn(uint32_t(0), rows);
    return;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(t);
  const uint32_t chunk = (rows + t - 1) / t;
  for (unsigned i = 0; i < t; ++i) {
    const uint32_t r0 = std::min(rows, i * chunk), r1 = std::min(rows, r0 + chunk);
    pool.emplace_back([&, i, r0, r1] {
      try {
        fn(r0, r1);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace lutc::xfp

// The pool the kernels share: every index runs exactly once per call, calls
// can follow each other without a stale worker touching the next one, and a
// task's exception reaches the caller.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "lutc/kernels/cpu/thread_pool.h"

namespace lutc::testing {
namespace {

TEST(ThreadPool, EveryIndexOnceAcrossManyCalls) {
  for (unsigned threads : {1u, 2u, 5u}) {
    kernels::ThreadPool pool(threads);
    EXPECT_EQ(pool.threads(), threads);
    for (int call = 0; call < 500; ++call) {
      const size_t n = size_t(call % 17);
      std::vector<std::atomic<int>> hits(n);
      pool.run(n, [&](size_t i) { hits[i].fetch_add(1); });
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "call " << call << " index " << i;
    }
  }
}

TEST(ThreadPool, TaskExceptionReachesTheCaller) {
  kernels::ThreadPool pool(3);
  EXPECT_THROW(pool.run(50,
                        [](size_t i) {
                          if (i == 31) throw std::runtime_error("boom");
                        }),
               std::runtime_error);
  // Still usable afterwards.
  std::atomic<int> sum{0};
  pool.run(10, [&](size_t i) { sum += int(i); });
  EXPECT_EQ(sum.load(), 45);
}

}  // namespace
}  // namespace lutc::testing

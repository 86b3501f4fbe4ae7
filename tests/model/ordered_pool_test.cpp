// ordered_parallel: results reach consume in index order whatever the thread
// count and timing, at most `window` wait at once, and the error a caller sees
// is the one at the lowest failing index.
#include "lutc/model/ordered_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "test_data.h"

namespace lutc {
namespace {

TEST(OrderedPool, ConsumesInOrderForAnyThreadCountAndTiming) {
  const uint64_t seed = testing::fresh_seed();
  std::mt19937_64 rng(seed);
  for (unsigned threads : {1u, 2u, 3u, 8u}) {
    const size_t n = 1 + rng() % 200;
    std::vector<int> delay_us(n);
    for (auto& d : delay_us) d = int(rng() % 300);
    std::vector<size_t> order;
    std::vector<uint64_t> values;
    ordered_parallel<uint64_t>(
        n, threads, 1 + rng() % 6,
        [&](size_t i) {
          std::this_thread::sleep_for(std::chrono::microseconds(delay_us[i]));
          return uint64_t(i) * 2654435761u;
        },
        [&](size_t i, uint64_t&& v) {
          order.push_back(i);
          values.push_back(v);
        });
    ASSERT_EQ(order.size(), n) << "seed " << seed;
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(order[i], i) << "threads " << threads << " seed " << seed;
      EXPECT_EQ(values[i], uint64_t(i) * 2654435761u);
    }
  }
}

TEST(OrderedPool, AtMostWindowResultsWaitAtOnce) {
  const uint64_t seed = testing::fresh_seed();
  std::mt19937_64 rng(seed);
  const size_t window = 2 + rng() % 8;
  const unsigned threads = 4;  // the window is at least the thread count
  std::atomic<int> alive{0}, peak{0};
  struct Tracked {
    std::atomic<int>* alive;
    bool live = true;
    Tracked(std::atomic<int>* a) : alive(a) { ++*alive; }
    Tracked(Tracked&& o) noexcept : alive(o.alive), live(o.live) { o.live = false; }
    ~Tracked() {
      if (live) --*alive;
    }
  };
  ordered_parallel<Tracked>(
      100, threads, window,
      [&](size_t) {
        Tracked t(&alive);
        int p = peak.load();
        while (alive.load() > p && !peak.compare_exchange_weak(p, alive.load())) {
        }
        return t;
      },
      [&](size_t i, Tracked&&) {
        // A slow consumer: producers must wait for room, not pile up results.
        if (i % 7 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      });
  // +1: the slot just consumed lives until its loop turn ends.
  EXPECT_LE(peak.load(), int(std::max<size_t>(window, threads)) + 1) << "window " << window << " seed " << seed;
  EXPECT_EQ(alive.load(), 0);
}

TEST(OrderedPool, RethrowsTheLowestFailingIndex) {
  const uint64_t seed = testing::fresh_seed();
  std::mt19937_64 rng(seed);
  const size_t n = 50, first_bad = 5 + rng() % 30;
  for (unsigned threads : {1u, 2u, 4u}) {
    size_t consumed = 0;
    try {
      ordered_parallel<int>(
          n, threads, 8,
          [&](size_t i) -> int {
            // Later failures finish first, so timing alone would pick them.
            if (i >= first_bad && (i - first_bad) % 3 == 0) {
              if (i == first_bad) std::this_thread::sleep_for(std::chrono::milliseconds(5));
              throw std::runtime_error("bad " + std::to_string(i));
            }
            return int(i);
          },
          [&](size_t, int&&) { ++consumed; });
      FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), "bad " + std::to_string(first_bad)) << "threads " << threads;
      EXPECT_EQ(consumed, first_bad);
    }
  }
}

TEST(OrderedPool, ABudgetKeepsCostlyItemsApartButNeverStalls) {
  const uint64_t seed = testing::fresh_seed();
  std::mt19937_64 rng(seed);
  const size_t n = 60;
  std::vector<uint64_t> cost(n);
  for (auto& c : cost) c = rng() % 4 == 0 ? 900 + rng() % 400 : 100 + rng() % 200;  // some near or over the limit
  PoolBudget budget{[&](size_t i) { return cost[i]; }, 1000};
  std::mutex mu;
  uint64_t running_cost = 0, worst = 0;
  size_t running = 0;
  std::vector<size_t> order;
  ordered_parallel<int>(
      n, 4, 8,
      [&](size_t i) {
        {
          std::lock_guard<std::mutex> lock(mu);
          running_cost += cost[i];
          ++running;
          if (running > 1) worst = std::max(worst, running_cost);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200 + 37 * (i % 5)));
        std::lock_guard<std::mutex> lock(mu);
        running_cost -= cost[i];
        --running;
        return int(i);
      },
      [&](size_t i, int&& v) {
        EXPECT_EQ(size_t(v), i);
        order.push_back(i);
      },
      budget);
  EXPECT_EQ(order.size(), n) << "seed " << seed;
  EXPECT_LE(worst, 1000u) << "items ran side by side beyond the budget; seed " << seed;
}

}  // namespace
}  // namespace lutc

#pragma once
// Runs work(i) for i in [0, n) on `threads` threads and hands each result to
// consume(i, result) on the calling thread strictly in order of i. Output that
// consume writes is therefore the same for any thread count, and at most
// `window` results wait in memory at once, which bounds peak memory by the
// largest few items rather than by n.
//
// An exception from work(i) is rethrown when consume would have reached i, so
// the error a user sees does not depend on timing either.
//
// With a memory budget, item i is started only while the items being worked
// on and item i together are estimated (cost(i), in bytes) within `limit`,
// or when nothing else is running: one huge tensor then runs alone instead of
// beside others. The order of results is unchanged.
#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace lutc {

struct PoolBudget {
  std::function<uint64_t(size_t)> cost;  // estimated peak bytes of work(i)
  uint64_t limit = 0;                    // 0: no budget
};

template <class Result, class Work, class Consume>
void ordered_parallel(size_t n, unsigned threads, size_t window, Work&& work, Consume&& consume,
                      const PoolBudget& budget = {}) {
  threads = std::max(1u, threads);
  window = std::max<size_t>(window, threads);
  if (threads == 1 || n <= 1) {
    for (size_t i = 0; i < n; ++i) consume(i, work(i));
    return;
  }
  struct Slot {
    std::optional<Result> value;
    std::exception_ptr error;
  };
  std::mutex mu;
  std::condition_variable ready, room;
  std::map<size_t, Slot> done;
  size_t next_claim = 0, next_consume = 0, running = 0;
  uint64_t running_cost = 0;
  bool stop = false;
  auto cost_of = [&](size_t i) -> uint64_t { return budget.limit ? budget.cost(i) : 0; };
  auto fits = [&](size_t i) { return running == 0 || running_cost + cost_of(i) <= budget.limit; };

  auto worker = [&] {
    for (;;) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mu);
        room.wait(lock,
                  [&] { return stop || next_claim >= n || (next_claim < next_consume + window && fits(next_claim)); });
        if (stop || next_claim >= n) return;
        i = next_claim++;
        ++running;
        running_cost += cost_of(i);
      }
      Slot s;
      try {
        s.value.emplace(work(i));
      } catch (...) {
        s.error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        done.emplace(i, std::move(s));
        --running;
        running_cost -= cost_of(i);
      }
      ready.notify_all();
      room.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < std::min<size_t>(threads, n); ++t) pool.emplace_back(worker);

  std::exception_ptr failure;
  try {
    for (; next_consume < n;) {
      // The node keeps the slot alive outside the lock without moving the result.
      typename std::map<size_t, Slot>::node_type node;
      {
        std::unique_lock<std::mutex> lock(mu);
        ready.wait(lock, [&] { return done.count(next_consume) > 0; });
        node = done.extract(next_consume);
      }
      Slot& s = node.mapped();
      if (s.error) std::rethrow_exception(s.error);
      consume(next_consume, std::move(*s.value));
      {
        std::lock_guard<std::mutex> lock(mu);
        ++next_consume;
      }
      room.notify_all();
    }
  } catch (...) {
    failure = std::current_exception();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  room.notify_all();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace lutc

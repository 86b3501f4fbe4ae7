#pragma once
// A fixed set of worker threads that stays alive between calls: a GEMV over a
// DRAM-resident layer takes milliseconds, so creating threads per call would
// cost a visible share of it.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lutc::kernels {

class ThreadPool {
 public:
  // `threads` workers in all, the calling thread included (1 = no extra thread).
  explicit ThreadPool(unsigned threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned threads() const { return unsigned(workers_.size()) + 1; }
  // Runs task(i) for i in [0, tasks), spread over the threads; returns when all
  // are done. The first exception a task throws is rethrown here.
  void run(size_t tasks, const std::function<void(size_t)>& task);

 private:
  void work_loop();
  void drain();

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(size_t)>* task_ = nullptr;
  size_t tasks_ = 0;
  std::atomic<size_t> next_{0};
  size_t finished_ = 0;  // workers done with the current generation
  unsigned long long generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace lutc::kernels

// Measuring the working set of quantize-on-load. The heap is what grows while
// a tensor is staged in fp32 and quantized (the weight file itself is mapped,
// not read into the heap), so the meter samples glibc's in-use heap from a
// background thread and keeps the maximum. Sampling can miss a spike shorter
// than the period; callers add the allocations they know exactly as a floor.
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "lutc/model/hprocess.h"

// Under AddressSanitizer (scripts/test-sanitize, fuzz/) every malloc goes to
// ASan's own allocator, which glibc's mallinfo2 knows nothing of: it would
// report a heap that never grows. ASan's allocator counts its own bytes.
#if defined(__SANITIZE_ADDRESS__)
#define LUTC_HEAP_FROM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LUTC_HEAP_FROM_ASAN 1
#endif
#endif
#ifdef LUTC_HEAP_FROM_ASAN
extern "C" size_t __sanitizer_get_current_allocated_bytes();  // <sanitizer/allocator_interface.h>, not in GCC's copy
#endif

namespace lutc {

uint64_t heap_in_use() {
#ifdef LUTC_HEAP_FROM_ASAN
  return __sanitizer_get_current_allocated_bytes();
#else
  const struct mallinfo2 mi = mallinfo2();
  return uint64_t(mi.uordblks) + uint64_t(mi.hblkhd);
#endif
}

struct HeapPeakMeter::State {
  uint64_t base = 0;
  std::atomic<uint64_t> peak{0};
  std::atomic<bool> done{false};
  std::thread sampler;
  void sample() {
    const uint64_t now = heap_in_use();
    uint64_t p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
  }
};

HeapPeakMeter::HeapPeakMeter() : s_(std::make_unique<State>()) {
  s_->base = heap_in_use();
  s_->peak = s_->base;
  State* s = s_.get();
  s_->sampler = std::thread([s] {
    while (!s->done.load(std::memory_order_relaxed)) {
      s->sample();
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  });
}

HeapPeakMeter::~HeapPeakMeter() {
  if (s_->sampler.joinable()) stop();
}

uint64_t HeapPeakMeter::peak_so_far() const {
  const uint64_t p = s_->peak.load();
  return p > s_->base ? p - s_->base : 0;
}

uint64_t HeapPeakMeter::stop() {
  s_->done = true;
  if (s_->sampler.joinable()) s_->sampler.join();
  s_->sample();
  return s_->peak > s_->base ? s_->peak - s_->base : 0;
}

}  // namespace lutc

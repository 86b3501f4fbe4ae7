#pragma once
// The yardstick for "% of memory bandwidth": the fastest plain streaming read
// this machine does, measured in the same run as the kernel, over a buffer of
// the same size, with the same threads. Nothing is decoded or multiplied, so
// a GEMV cannot be faster than this on the same bytes.
#include <cstddef>
#include <cstdint>

#include "lutc/kernels/cpu/isa.h"
#include "lutc/kernels/cpu/thread_pool.h"

namespace lutc::kernels {

// Reads n bytes once (every 64-byte line), split into one contiguous range per
// thread; returns a checksum so the reads cannot be optimized away.
uint64_t stream_read(const uint8_t* buf, size_t n, ThreadPool* pool, Isa isa);

}  // namespace lutc::kernels

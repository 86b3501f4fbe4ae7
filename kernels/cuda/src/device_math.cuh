#pragma once
// The few operations the kernels need that differ between the device and the
// host, behind one name each, so the kernel bodies compile for both: nvcc's
// device pass uses the rounding intrinsics, and the host pass (emulate.cu,
// which runs the same bodies on the CPU for machines without a GPU) uses
// plain IEEE operations. Host code in .cu files is built with
// -ffp-contract=off, so `a * b` there is one round-to-nearest product, the
// same as __fmul_rn; fmaf is fused on both sides.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#define LUTC_HD __host__ __device__ __forceinline__

namespace lutc::kernels::cuda {

LUTC_HD float mul_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

LUTC_HD float sub_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

LUTC_HD float add_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

LUTC_HD double dmul_rn(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}

// High 64 bits of the signed 128-bit product.
LUTC_HD long long mul64hi(long long a, long long b) {
#ifdef __CUDA_ARCH__
  return __mul64hi(a, b);
#else
  return static_cast<long long>((static_cast<__int128>(a) * b) >> 64);
#endif
}

// The host side checks the alignment the device needs, so the emulation
// catches a load that would fault on the GPU (misaligned address).
inline void require_aligned(const void* p, size_t bytes) {
#ifndef __CUDA_ARCH__
  if (reinterpret_cast<uintptr_t>(p) % bytes != 0) throw std::logic_error("CUDA kernel: misaligned device load");
#else
  (void)p, (void)bytes;
#endif
}

// Read-only loads: through the non-coherent cache on the device.
template <class T>
LUTC_HD T load_ro(const T* p) {
#ifdef __CUDA_ARCH__
  return __ldg(p);
#else
  require_aligned(p, alignof(T));
  return *p;
#endif
}

// 16 aligned bytes as four 32-bit words, one vector load on the device.
struct Words4 {
  uint32_t w[4];
};
LUTC_HD Words4 load16_ro(const void* p) {
  Words4 r;
#ifdef __CUDA_ARCH__
  const uint4 v = __ldg(static_cast<const uint4*>(p));
  r.w[0] = v.x, r.w[1] = v.y, r.w[2] = v.z, r.w[3] = v.w;
#else
  require_aligned(p, 16);
  std::memcpy(r.w, p, 16);
#endif
  return r;
}

// fp16 / bf16 bit patterns to fp32: exact conversions on both sides.
LUTC_HD float half_bits_to_float(uint16_t h) { return __half2float(__ushort_as_half(h)); }
LUTC_HD float bf16_bits_to_float(uint16_t b) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(uint32_t(b) << 16);
#else
  const uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
#endif
}

// Activation element types the fast path takes, as 16-bit patterns.
struct F16Bits {
  static LUTC_HD float to_float(uint16_t b) { return half_bits_to_float(b); }
};
struct Bf16Bits {
  static LUTC_HD float to_float(uint16_t b) { return bf16_bits_to_float(b); }
};

}  // namespace lutc::kernels::cuda

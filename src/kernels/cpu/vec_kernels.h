// Internal table of vector primitives per ISA; kernels/vec_ops.cpp picks one per call from
// active_isa(). The semantics of each entry are those of the same-named function in
// kernels/vec_ops.h. Call dense accessors for an ISA only when the host supports it.
#pragma once

#include <cstdint>

namespace insitu::kernels {

struct VecKernelSet {
  const char* name;
  float (*dot)(const float* a, const float* b, int64_t n);
  void (*axpy)(float a, const float* x, float* y, int64_t n);
  void (*scale)(float* x, float s, int64_t n);
  void (*add)(const float* a, const float* b, float* out, int64_t n);
  void (*rmsnorm)(const float* x, const float* w, float eps, float weight_offset, float* out,
                  int64_t n);
  void (*softmax)(float* x, int64_t n);
  void (*silu_mul)(float* gate, const float* up, int64_t n);
  void (*gelu_tanh_mul)(float* gate, const float* up, int64_t n);
};

const VecKernelSet& vec_kernels_scalar();
const VecKernelSet& vec_kernels_avx2();
const VecKernelSet& vec_kernels_avx512();

}  // namespace insitu::kernels

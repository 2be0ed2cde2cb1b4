#include "kernels/vec_ops.h"

#include "core/cpu_features.h"
#include "kernels/cpu/vec_kernels.h"

namespace insitu {
namespace {

// One lookup per call (an atomic load and a switch); the kernels never dispatch per element.
const kernels::VecKernelSet& vec_kernels() {
  switch (active_isa()) {
    case IsaLevel::kAmx:
    case IsaLevel::kAvx512: return kernels::vec_kernels_avx512();
    case IsaLevel::kAvx2: return kernels::vec_kernels_avx2();
    case IsaLevel::kScalar: break;
  }
  return kernels::vec_kernels_scalar();
}

}  // namespace

float dot_f32(const float* a, const float* b, int64_t n) { return vec_kernels().dot(a, b, n); }
void axpy_f32(float a, const float* x, float* y, int64_t n) { vec_kernels().axpy(a, x, y, n); }
void scale_f32(float* x, float s, int64_t n) { vec_kernels().scale(x, s, n); }
void add_f32(const float* a, const float* b, float* out, int64_t n) {
  vec_kernels().add(a, b, out, n);
}
void rmsnorm_f32(const float* x, const float* w, float eps, float weight_offset, float* out,
                 int64_t n) {
  vec_kernels().rmsnorm(x, w, eps, weight_offset, out, n);
}
void softmax_f32(float* x, int64_t n) { vec_kernels().softmax(x, n); }
void silu_mul_f32(float* gate, const float* up, int64_t n) { vec_kernels().silu_mul(gate, up, n); }
void gelu_tanh_mul_f32(float* gate, const float* up, int64_t n) {
  vec_kernels().gelu_tanh_mul(gate, up, n);
}

}  // namespace insitu

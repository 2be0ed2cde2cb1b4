#include "kernels/attention.h"

#include <algorithm>

#include "core/cpu_features.h"

namespace insitu {
namespace {

bool use_avx512(int64_t hd) {
  const IsaLevel isa = active_isa();
  return (isa == IsaLevel::kAvx512 || isa == IsaLevel::kAmx) && hd % 16 == 0;
}

}  // namespace

void attention_scores_f32(const float* q, int64_t n_q, int64_t hd, const float* k, int64_t stride,
                          int64_t n, float* s) {
  if (n <= 0 || n_q <= 0) return;
  if (use_avx512(hd)) {
    kernels::attention_scores_avx512(q, n_q, hd, k, stride, n, s);
    return;
  }
  for (int64_t g = 0; g < n_q; ++g)
    for (int64_t j = 0; j < n; ++j) {
      const float* qg = q + g * hd;
      const float* kj = k + j * stride;
      float acc = 0.f;
      for (int64_t c = 0; c < hd; ++c) acc += qg[c] * kj[c];
      s[g * n + j] = acc;
    }
}

void attention_values_f32(const float* p, int64_t p_stride, int64_t n_q, int64_t hd, const float* v,
                          int64_t stride, int64_t n, float* out) {
  if (n_q <= 0) return;
  if (n > 0 && use_avx512(hd)) {
    kernels::attention_values_avx512(p, p_stride, n_q, hd, v, stride, n, out);
    return;
  }
  std::fill(out, out + n_q * hd, 0.f);
  for (int64_t g = 0; g < n_q; ++g)
    for (int64_t j = 0; j < n; ++j) {
      const float w = p[g * p_stride + j];
      const float* vj = v + j * stride;
      float* og = out + g * hd;
      for (int64_t c = 0; c < hd; ++c) og[c] += w * vj[c];
    }
}

}  // namespace insitu

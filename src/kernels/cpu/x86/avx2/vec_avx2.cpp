// AVX2/FMA vector primitives; same algorithms as the AVX-512 versions (see there). 2^n is
// built from exponent bits in two halves so that n in [-150, 128] (x in [-104, 88.8]) gives
// correct denormals, zeros and infinities. Row tails go through zero-padded 8-lane buffers.
#include <immintrin.h>

#include "kernels/cpu/vec_kernels.h"
#include "kernels/cpu/x86/avx2/simd256.h"

namespace insitu::kernels {
namespace {

inline __m256 exp256(__m256 x) {
  x = _mm256_max_ps(_mm256_set1_ps(-104.0f), x);  // NaN passes through (second operand)
  x = _mm256_min_ps(_mm256_set1_ps(88.8f), x);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606820309417e-06f), r);
  __m256 p = _mm256_set1_ps(1.0f / 5040);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1);
  const __m256i n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

inline __m256 load_part(const float* p, int64_t n) {
  float buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t i = 0; i < n; ++i) buf[i] = p[i];
  return _mm256_loadu_ps(buf);
}
inline void store_part(float* p, __m256 v, int64_t n) {
  float buf[8];
  _mm256_storeu_ps(buf, v);
  for (int64_t i = 0; i < n; ++i) p[i] = buf[i];
}
inline __m256 load_n(const float* p, int64_t n) {
  return n >= 8 ? _mm256_loadu_ps(p) : load_part(p, n);
}
inline void store_n(float* p, __m256 v, int64_t n) {
  if (n >= 8) {
    _mm256_storeu_ps(p, v);
  } else {
    store_part(p, v, n);
  }
}

inline double hsum_pd(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

float dot(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i < n; i += 8) s0 = _mm256_fmadd_ps(load_n(a + i, n - i), load_n(b + i, n - i), s0);
  return hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

void axpy(float a, const float* x, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  for (int64_t i = 0; i < n; i += 8)
    store_n(y + i, _mm256_fmadd_ps(va, load_n(x + i, n - i), load_n(y + i, n - i)), n - i);
}

void scale(float* x, float s, int64_t n) {
  const __m256 vs = _mm256_set1_ps(s);
  for (int64_t i = 0; i < n; i += 8) store_n(x + i, _mm256_mul_ps(load_n(x + i, n - i), vs), n - i);
}

void add(const float* a, const float* b, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i += 8)
    store_n(out + i, _mm256_add_ps(load_n(a + i, n - i), load_n(b + i, n - i)), n - i);
}

void rmsnorm(const float* x, const float* w, float eps, float weight_offset, float* out,
             int64_t n) {
  __m256d a0 = _mm256_setzero_pd(), a1 = a0;
  for (int64_t i = 0; i < n; i += 8) {
    const __m256 v = load_n(x + i, n - i);
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    a0 = _mm256_fmadd_pd(lo, lo, a0);
    a1 = _mm256_fmadd_pd(hi, hi, a1);
  }
  const double ss = hsum_pd(_mm256_add_pd(a0, a1));
  const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / __builtin_sqrt(ss / n + eps)));
  const __m256 off = _mm256_set1_ps(weight_offset);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256 v = _mm256_mul_ps(load_n(x + i, n - i), inv);
    store_n(out + i, _mm256_mul_ps(v, _mm256_add_ps(off, load_n(w + i, n - i))), n - i);
  }
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  float mx = x[0];
  {
    __m256 vm = _mm256_set1_ps(x[0]);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(x + i));
    float buf[8];
    _mm256_storeu_ps(buf, vm);
    for (float v : buf) mx = v > mx ? v : mx;
    for (; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  }
  const __m256 vmax = _mm256_set1_ps(mx);
  __m256d a0 = _mm256_setzero_pd(), a1 = a0;
  for (int64_t i = 0; i < n; i += 8) {
    __m256 e = exp256(_mm256_sub_ps(load_n(x + i, n - i), vmax));
    if (n - i < 8) {  // zero the padding lanes before summing
      float buf[8];
      _mm256_storeu_ps(buf, e);
      for (int64_t j = n - i; j < 8; ++j) buf[j] = 0.f;
      e = _mm256_loadu_ps(buf);
    }
    store_n(x + i, e, n - i);
    a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  }
  scale(x, static_cast<float>(1.0 / hsum_pd(_mm256_add_pd(a0, a1))), n);
}

void silu_mul(float* gate, const float* up, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256 g = load_n(gate + i, n - i);
    const __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), g));
    const __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, e));
    store_n(gate + i, _mm256_mul_ps(s, load_n(up + i, n - i)), n - i);
  }
}

void gelu_tanh_mul(float* gate, const float* up, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 c = _mm256_set1_ps(0.7978845608028654f), c3 = _mm256_set1_ps(0.044715f);
  const __m256 m2 = _mm256_set1_ps(-2.0f);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256 g = load_n(gate + i, n - i);
    const __m256 g3 = _mm256_mul_ps(_mm256_mul_ps(g, g), g);
    const __m256 u = _mm256_mul_ps(c, _mm256_fmadd_ps(c3, g3, g));
    const __m256 e = exp256(_mm256_mul_ps(m2, u));
    const __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, e));
    store_n(gate + i, _mm256_mul_ps(s, load_n(up + i, n - i)), n - i);
  }
}

const VecKernelSet kSet = {"avx2",  dot,     axpy,     scale,        add,
                           rmsnorm, softmax, silu_mul, gelu_tanh_mul};

}  // namespace

const VecKernelSet& vec_kernels_avx2() {
  return kSet;
}

}  // namespace insitu::kernels

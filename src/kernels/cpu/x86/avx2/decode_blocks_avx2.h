// Helpers shared by the AVX2 block dequantizers (quant_decode_avx2.cpp for the ggml types,
// quant_decode_avx2_afq_hqq_fp.cpp for the others): the int8-level -> f32 tail and the scale
// forms the reference dequantizers use (byte loads: block_bytes_x86.h). Include only from AVX2
// translation units; internal linkage keeps the AVX2 code out of baseline copies (ODR).
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/x86/block_bytes_x86.h"

namespace insitu::kernels::avx2 {
namespace {

// The kernels room is compiled with -mfma and GCC contracts a product and the following add
// into one FMA (one rounding instead of the reference's two). For these formats the products
// with an add are exact anyway (f16 scale x <= 6-bit sub-scale x <= 5-bit level: <= 22 bits), so
// both agree; the empty asm still keeps the reference's operation sequence, so the code stays
// exact if a format with wider factors is added.
inline __m256 rounded(__m256 v) {
  asm("" : "+x"(v));
  return v;
}

// f32 of the int8 levels in the low 8 bytes of v.
inline __m256 levels8(__m128i v) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v));
}

// The four 8-level pieces of 32 int8 levels, in element order.
struct Levels32 {
  __m256 f[4];
  explicit Levels32(__m256i lv) {
    const __m128i a = _mm256_castsi256_si128(lv), b = _mm256_extracti128_si256(lv, 1);
    f[0] = levels8(a);
    f[1] = levels8(_mm_srli_si128(a, 8));
    f[2] = levels8(b);
    f[3] = levels8(_mm_srli_si128(b, 8));
  }
};

// out[j] = level[j] * s (s0 for elements 0..15, s1 for 16..31).
inline void put_scaled(float* out, __m256i lv, __m256 s0, __m256 s1) {
  const Levels32 q(lv);
  _mm256_storeu_ps(out, _mm256_mul_ps(q.f[0], s0));
  _mm256_storeu_ps(out + 8, _mm256_mul_ps(q.f[1], s0));
  _mm256_storeu_ps(out + 16, _mm256_mul_ps(q.f[2], s1));
  _mm256_storeu_ps(out + 24, _mm256_mul_ps(q.f[3], s1));
}

// Legacy minimum: out[j] = level[j] * d + m.
inline void put_madd(float* out, __m256i lv, __m256 d, __m256 m) {
  const Levels32 q(lv);
  for (int k = 0; k < 4; ++k)
    _mm256_storeu_ps(out + 8 * k, _mm256_add_ps(rounded(_mm256_mul_ps(q.f[k], d)), m));
}

// K-quant minimum: out[j] = dl * level[j] - ml, (dl, ml) = (d0, m0) for elements 0..15 and
// (d1, m1) for 16..31.
inline void put_msub(float* out, __m256i lv, __m256 d0, __m256 m0, __m256 d1, __m256 m1) {
  const Levels32 q(lv);
  _mm256_storeu_ps(out, _mm256_sub_ps(rounded(_mm256_mul_ps(d0, q.f[0])), m0));
  _mm256_storeu_ps(out + 8, _mm256_sub_ps(rounded(_mm256_mul_ps(d0, q.f[1])), m0));
  _mm256_storeu_ps(out + 16, _mm256_sub_ps(rounded(_mm256_mul_ps(d1, q.f[2])), m1));
  _mm256_storeu_ps(out + 24, _mm256_sub_ps(rounded(_mm256_mul_ps(d1, q.f[3])), m1));
}

// 16 bytes of nibbles -> 32 levels: low nibbles first (elements 0..15), then high.
inline __m256i split_nibbles_lo_hi(const uint8_t* qs) {
  const __m128i q = load128(qs);
  const __m128i m = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
}

// Blocks [b0, b0 + nb) of a row through a block decoder F (kBlock values from kBytes bytes):
// the DequantBlocksFn every vector decoder is.
template <void (*F)(const uint8_t*, float*), int kBlock, int kBytes>
void vector_rows(const uint8_t* row, int64_t b0, int64_t nb, float* out) {
  const uint8_t* b = row + b0 * kBytes;
  for (int64_t i = 0; i < nb; ++i, b += kBytes, out += kBlock) F(b, out);
}

}  // namespace
}  // namespace insitu::kernels::avx2

// 32 fp8 E4M3 codes to f32 with AVX-512, shared by the fp8 block decoder
// (quant_decode_avx512.cpp), the fp8 decode GEMV (quant_gemv_avx512.cpp) and the AMX exact-code
// GEMM (amx/quant_gemm_amx.cpp). Include only from AVX-512 translation units.
#pragma once

#include <cstdint>

#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels::avx512 {

// e4m3 S.EEEE.MMM placed as the f16 S.0EEEE.MMM0000000 is the same value times 2^-8 (normals and
// subnormals alike: both formats' subnormal steps scale by the same 2^8); codes S.1111.111 are
// NaN in e4m3 (finite in f16) and are patched, only when a NaN code is present (a predictable
// branch instead of two masked moves per 32 codes). *lo gets codes 0..15, *hi codes 16..31, as
// 2^-8 times their values: callers fold the 256 into their scale.
inline void e4m3x32_to_f32_over256(const uint8_t* q, __m512* lo, __m512* hi) {
  const __m512i m7f = _mm512_set1_epi16(0x7F);
  const __m512i u = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
  const __m512i mag = _mm512_and_si512(u, m7f);
  const __m512i h =
      _mm512_or_si512(_mm512_slli_epi16(mag, 7),
                      _mm512_slli_epi16(_mm512_and_si512(u, _mm512_set1_epi16(0x80)), 8));
  *lo = _mm512_cvtph_ps(_mm512_castsi512_si256(h));
  *hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1));
  const __mmask32 is_nan = _mm512_cmpeq_epi16_mask(mag, m7f);
  if (__builtin_expect(is_nan != 0, 0)) {
    const __m512 nan = _mm512_set1_ps(__builtin_nanf(""));
    *lo = _mm512_mask_mov_ps(*lo, static_cast<__mmask16>(is_nan), nan);
    *hi = _mm512_mask_mov_ps(*hi, static_cast<__mmask16>(is_nan >> 16), nan);
  }
}

// The values themselves (NaN times 256 stays NaN).
inline void e4m3x32_to_f32(const uint8_t* q, __m512* lo, __m512* hi) {
  e4m3x32_to_f32_over256(q, lo, hi);
  *lo = _mm512_mul_ps(*lo, _mm512_set1_ps(256.f));
  *hi = _mm512_mul_ps(*hi, _mm512_set1_ps(256.f));
}

}  // namespace insitu::kernels::avx512

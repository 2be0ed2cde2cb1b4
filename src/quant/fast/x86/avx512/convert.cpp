// bf16 / f16 rows to f32 with the bits of core/half.h's scalar conversions.
#include "core/half.h"
#include "quant/fast/x86/avx512/kernels.h"
#include "quant/fast/x86/avx512/simd.h"

namespace insitu::fastq::avx512 {

void bf16_to_f32_row(const uint16_t* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512i a = _mm512_loadu_si512(in + i);
    // bf16 is the high half of an f32: widen and shift.
    const __m512i lo = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(a)), 16);
    const __m512i hi =
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(a, 1)), 16);
    _mm512_storeu_si512(out + i, lo);
    _mm512_storeu_si512(out + i + 16, hi);
  }
  for (; i < n; ++i) out[i] = bf16_to_f32(in[i]);
}

void f16_to_f32_row(const uint16_t* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    V f = _mm512_cvtph_ps(h);
    // vcvtph2ps quiets signalling NaNs; the scalar conversion keeps every payload bit.
    const __m512i w = _mm512_cvtepu16_epi32(h);
    const M nan = _mm512_cmpgt_epi32_mask(_mm512_and_si512(w, splati(0x7fff)), splati(0x7c00));
    if (nan) {
      const __m512i bits = _mm512_or_si512(
          _mm512_or_si512(_mm512_slli_epi32(_mm512_and_si512(w, splati(0x8000)), 16),
                          splati(0x7f800000)),
          _mm512_slli_epi32(_mm512_and_si512(w, splati(0x3ff)), 13));
      f = _mm512_mask_blend_ps(nan, f, _mm512_castsi512_ps(bits));
    }
    _mm512_storeu_ps(out + i, f);
  }
  for (; i < n; ++i) out[i] = f16_to_f32(in[i]);
}

}  // namespace insitu::fastq::avx512

// 32 fp8 E4M3 codes to f32 with AVX-512, shared by the fp8 block decoder
// (quant_decode_avx512.cpp), the fp8 decode GEMV (quant_gemv_avx512.cpp) and the AMX exact-code
// GEMM (amx/quant_gemm_amx.cpp). Include only from AVX-512 translation units.
#pragma once

#include <cstdint>

#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels::avx512 {

// e4m3 S.EEEE.MMM placed as the f16 S.0EEEE.MMM0000000 is the same value times 2^-8 (normals and
// subnormals alike: both formats' subnormal steps scale by the same 2^8), except that codes
// S.1111.111 are NaN in e4m3 (finite in f16). The placement: each code sign-extended to 16 bits
// (bits 8..15 = S), shifted left by 7 (code bits 0..6 at 7..13, S at 14 and 15) and bit 14
// cleared: three operations per 32 codes. *lo gets codes 0..15, *hi codes 16..31, as 2^-8 times
// their values: callers fold the 256 into their scale. NaN codes come out finite: callers check
// for them first (e4m3_has_nan) or use e4m3x32_to_f32_over256.
inline void e4m3x32_to_f32_over256_finite(const uint8_t* q, __m512* lo, __m512* hi) {
  const __m512i s = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
  const __m512i h = _mm512_and_si512(_mm512_slli_epi16(s, 7), _mm512_set1_epi16(0xBF80 - 0x10000));
  *lo = _mm512_cvtph_ps(_mm512_castsi512_si256(h));
  *hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1));
}

// Whether any of the 64 codes at q is a NaN (S.1111.111): one OR and one compare.
inline bool e4m3x64_has_nan(const uint8_t* q) {
  const __m512i v =
      _mm512_or_si512(_mm512_loadu_si512(q), _mm512_set1_epi8(static_cast<char>(0x80)));
  return _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(-1)) != 0;
}

// As e4m3x32_to_f32_over256_finite, NaN codes patched to NaN (a predictable branch, taken only
// when a NaN code is present).
inline void e4m3x32_to_f32_over256(const uint8_t* q, __m512* lo, __m512* hi) {
  e4m3x32_to_f32_over256_finite(q, lo, hi);
  const __m256i v = _mm256_or_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)),
                                    _mm256_set1_epi8(static_cast<char>(0x80)));
  const __mmask32 is_nan = _mm256_cmpeq_epi8_mask(v, _mm256_set1_epi8(-1));
  if (__builtin_expect(is_nan != 0, 0)) {
    const __m512 nan = _mm512_set1_ps(__builtin_nanf(""));
    *lo = _mm512_mask_mov_ps(*lo, static_cast<__mmask16>(is_nan), nan);
    *hi = _mm512_mask_mov_ps(*hi, static_cast<__mmask16>(is_nan >> 16), nan);
  }
}

// 64 e4m3 codes straight to f32, as 256 times their values, for codes that are neither NaN nor
// subnormal (exponent field 0, zero included: check with e4m3x64_normal). Dword lane j of the
// 64-byte load holds codes 4j..4j+3; out[t] gets code 4j + t in lane j (callers permute x to
// match). Byte t is rotated to the top of its dword (byte 3 is there already) and shifted right
// arithmetically by 4: the mantissa lands at bits 20..22, the exponent at 23..26 and the sign
// fills 27..31; one ternary-logic op keeps sign, exponent and mantissa and sets bit 30, i.e. adds
// 128 to the exponent: 2^(e + 1) (1 + m / 8), 2^8 times the e4m3 value 2^(e - 7) (1 + m / 8).
// 11 ALU operations per 64 codes and no shuffles or f16 conversions (the f16 route spends a
// sign extension, two conversions and an extract per 32 codes on the shuffle/convert ports;
// a sign extension per 16 codes to dwords was in between: hot ceiling 24.6 -> 27.5 -> 32 GB/s).
inline void e4m3x64_normal_to_f32_times256(const uint8_t* q, __m512 (&out)[4]) {
  const __m512i raw = _mm512_loadu_si512(q);
  const __m512i keep = _mm512_set1_epi32(static_cast<int>(0x87F00000u));
  const __m512i bias = _mm512_set1_epi32(0x40000000);
  // (s & keep) | bias: ternary-logic immediate 0xEA = (A & B) | C
  out[3] =
      _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_srai_epi32(raw, 4), keep, bias, 0xEA));
  out[2] = _mm512_castsi512_ps(
      _mm512_ternarylogic_epi32(_mm512_srai_epi32(_mm512_rol_epi32(raw, 8), 4), keep, bias, 0xEA));
  out[1] = _mm512_castsi512_ps(
      _mm512_ternarylogic_epi32(_mm512_srai_epi32(_mm512_rol_epi32(raw, 16), 4), keep, bias, 0xEA));
  out[0] = _mm512_castsi512_ps(
      _mm512_ternarylogic_epi32(_mm512_srai_epi32(_mm512_rol_epi32(raw, 24), 4), keep, bias, 0xEA));
}

// 64 e4m3 codes straight to bf16, as 256 times their values, for normal codes (the condition of
// e4m3x64_normal): exact, as bf16 keeps f32's exponent range and e4m3's 3 mantissa bits fit in
// its 7. A bf16 S.EEEEEEEE.MMMMMMM with E = e + 128 and M = m << 4 is 2^(e + 1) (1 + m / 8), 256
// times the e4m3 value: its high byte S.1000.e3e2e1 and low byte e0.m2m1m0.0000 are each a bit
// permutation of the code (one gf2p8affine each; the high byte's constant bit is the
// instruction's XOR constant), and unpacking the two byte vectors interleaves them into words.
// unpacklo/unpackhi work per 128-bit lane: out[0] word 8l + k is code 16l + k, out[1] word
// 8l + k is code 16l + 8 + k (l < 4, k < 8); callers permute x to match.
inline void e4m3x64_normal_to_bf16_times256(const uint8_t* q, __m512i (&out)[2]) {
  const __m512i raw = _mm512_loadu_si512(q);
  // code bits: 7 sign, 6..3 exponent e3..e0, 2..0 mantissa
  constexpr uint64_t kHigh = gf2_move(7, 1, 7) | gf2_move(4, 3, 0);  // S, e3e2e1
  constexpr uint64_t kLow = gf2_move(0, 4, 4);                       // e0, m2m1m0
  const __m512i high =
      _mm512_gf2p8affine_epi64_epi8(raw, _mm512_set1_epi64(static_cast<long long>(kHigh)), 0x40);
  const __m512i low =
      _mm512_gf2p8affine_epi64_epi8(raw, _mm512_set1_epi64(static_cast<long long>(kLow)), 0);
  out[0] = _mm512_unpacklo_epi8(low, high);
  out[1] = _mm512_unpackhi_epi8(low, high);
}

// Whether all 64 codes at q are normal e4m3 numbers (no NaN S.1111.111 and no exponent field
// 0: zeros and subnormals), the condition of e4m3x64_normal_to_f32_times256.
inline bool e4m3x64_normal(const uint8_t* q) {
  const __m512i v = _mm512_loadu_si512(q);
  const __mmask64 nan = _mm512_cmpeq_epi8_mask(
      _mm512_or_si512(v, _mm512_set1_epi8(static_cast<char>(0x80))), _mm512_set1_epi8(-1));
  const __mmask64 exp0 = _mm512_testn_epi8_mask(v, _mm512_set1_epi8(0x78));
  return (nan | exp0) == 0;
}

// The values themselves (NaN times 256 stays NaN).
inline void e4m3x32_to_f32(const uint8_t* q, __m512* lo, __m512* hi) {
  e4m3x32_to_f32_over256(q, lo, hi);
  *lo = _mm512_mul_ps(*lo, _mm512_set1_ps(256.f));
  *hi = _mm512_mul_ps(*hi, _mm512_set1_ps(256.f));
}

}  // namespace insitu::kernels::avx512

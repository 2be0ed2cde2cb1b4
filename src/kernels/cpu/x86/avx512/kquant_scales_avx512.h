// Unpacking of the 12-byte 6-bit scale fields of ggml's K-quants with AVX-512 VBMI byte selects:
// the same results as kquant_scales_x86.h's SSE2 versions (which stay for the AVX2 kernels),
// in about 7 vector instructions instead of about 20 scalar ones and inserts. In the decode
// GEMV the scalar unpack was a large part of a q3_K block's work. Include only from AVX-512
// translation units.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace insitu::kernels::avx512 {
namespace {

// q3_K: sixteen 6-bit scales, before ggml's -32: low nibble of byte j (j < 8) or high nibble of
// byte j - 8, top 2 bits (2 * (j / 4)) of byte 8 + j % 4. Returns bytes s0..s15 (0..63).
inline __m128i q3k_scale_bytes_vbmi(const uint8_t* p12) {
  const __m128i raw = _mm_maskz_loadu_epi8(0x0FFF, p12);
  // Scale j's nibble starts at bit 8 (j % 8) + 4 (j / 8) of bytes 0..7 (in both qwords).
  const __m128i lo = _mm_multishift_epi64_epi8(
      _mm_setr_epi8(0, 8, 16, 24, 32, 40, 48, 56, 4, 12, 20, 28, 36, 44, 52, 60),
      _mm_unpacklo_epi64(raw, raw));
  // Its top bits sit at bit 8 (j % 4) + 2 (j / 4) of bytes 8..11 (repeated in every dword);
  // start 4 below so that they land in bits 4..5.
  const __m128i hi = _mm_multishift_epi64_epi8(
      _mm_setr_epi8(60, 4, 12, 20, 62, 6, 14, 22, 0, 8, 16, 24, 2, 10, 18, 26),
      _mm_shuffle_epi32(raw, 0xAA));
  // 0x0F ? lo : hi, bitwise, then 6 bits.
  return _mm_and_si128(_mm_ternarylogic_epi32(_mm_set1_epi8(0x0F), lo, hi, 0xCA),
                       _mm_set1_epi8(0x3F));
}

// q4_K / q5_K: 8 scales and 8 mins (ggml's get_scale_min_k4). Sub-blocks 0..3: low 6 bits of
// bytes 0..3 (scales) and 4..7 (mins); 4..7: low / high nibbles of bytes 8..11 plus the top 2
// bits of bytes 0..3 / 4..7. Returns bytes sc0..sc7 | m0..m7.
inline __m128i k4_scale_min_bytes_vbmi(const uint8_t* p12) {
  const __m128i raw = _mm_maskz_loadu_epi8(0x0FFF, p12);
  // Low parts: bytes 0..3, 8..11 (low nibbles), 4..7, 8..11 (high nibbles, shifted down by 4).
  const __m128i a = _mm_multishift_epi64_epi8(
      _mm_setr_epi8(0, 8, 16, 24, 32, 40, 48, 56, 0, 8, 16, 24, 36, 44, 52, 60),
      _mm_shuffle_epi8(raw, _mm_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11)));
  const __m128i a_mask = _mm_setr_epi8(0x3F, 0x3F, 0x3F, 0x3F, 0x0F, 0x0F, 0x0F, 0x0F, 0x3F, 0x3F,
                                       0x3F, 0x3F, 0x0F, 0x0F, 0x0F, 0x0F);
  // High parts of sub-blocks 4..7: bits 6..7 of bytes 0..3 / 4..7, moved to bits 4..5.
  const __m128i b = _mm_srli_epi16(
      _mm_shuffle_epi8(raw, _mm_setr_epi8(-1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, 4, 5, 6, 7)),
      2);
  // (a & a_mask) | (b & 0x30)
  return _mm_ternarylogic_epi32(_mm_and_si128(a, a_mask), b, _mm_set1_epi8(0x30), 0xF8);
}

}  // namespace
}  // namespace insitu::kernels::avx512

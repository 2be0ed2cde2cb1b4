// Byte-level loads and stores of the block decoders, shared by the AVX2 (avx2/decode_blocks_avx2.h)
// and AVX-512 (avx512/quant_decode_avx512.cpp) ones: scalar scale fields, unaligned 128/256-bit
// vectors and the 256-bit nibble helpers. Needs AVX2 and F16C: include only from AVX2 or AVX-512
// translation units; internal linkage keeps the copies compiled with different ISA flags apart.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace insitu::kernels {
namespace {

inline float half_at(const uint8_t* p) {  // F16C: exact, as core/half.h (NaN payloads aside)
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}
inline float f32_at(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, 4);
  return f;
}
inline __m128i load128(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}
inline __m256i load256(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
inline void store128(uint8_t* p, __m128i v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
}
inline void store256(uint8_t* p, __m256i v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
}
inline __m256i and8(__m256i v, char mask) {
  return _mm256_and_si256(v, _mm256_set1_epi8(mask));
}
inline __m256i srli16(__m256i v, int n) {
  return _mm256_srli_epi16(v, n);
}

}  // namespace
}  // namespace insitu::kernels

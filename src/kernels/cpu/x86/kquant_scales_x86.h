// Unpacking of the 12-byte 6-bit scale fields of ggml's K-quants, shared by the AVX2 and AVX-512
// kernels (SSE2 only, so it is safe in either translation unit; internal linkage keeps the
// copies compiled with different ISA flags apart).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace insitu::kernels {
namespace {

// q4_K / q5_K: 8 scales and 8 mins. Sub-blocks 0..3 are the low 6 bits of bytes 0..3 (scales)
// and 4..7 (mins); sub-blocks 4..7 the nibbles of bytes 8..11 plus the top 2 bits of bytes
// 0..3 / 4..7 (ggml's get_scale_min_k4, on 32-bit words). Returns bytes sc0..sc7 | m0..m7.
inline __m128i k4_scale_min_bytes(const uint8_t* p12) {
  uint32_t u[3];
  std::memcpy(u, p12, 12);
  const uint32_t sc_lo = u[0] & 0x3f3f3f3fu, m_lo = u[1] & 0x3f3f3f3fu;
  const uint32_t sc_hi = (u[2] & 0x0f0f0f0fu) | (((u[0] >> 6) & 0x03030303u) << 4);
  const uint32_t m_hi = ((u[2] >> 4) & 0x0f0f0f0fu) | (((u[1] >> 6) & 0x03030303u) << 4);
  return _mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi), static_cast<int>(m_lo),
                        static_cast<int>(m_hi));
}

// q3_K: sixteen 6-bit scales, before ggml's -32. Scale j: low nibble of byte j (j < 8) or high
// nibble of byte j - 8, top 2 bits from bytes 8..11. Returns bytes s0..s15 (0..63).
inline __m128i q3k_scale_bytes(const uint8_t* p12) {
  uint32_t u[3];
  std::memcpy(u, p12, 12);
  const uint32_t t = u[2];
  return _mm_setr_epi32(
      static_cast<int>((u[0] & 0x0f0f0f0fu) | ((t & 0x03030303u) << 4)),
      static_cast<int>((u[1] & 0x0f0f0f0fu) | (((t >> 2) & 0x03030303u) << 4)),
      static_cast<int>(((u[0] >> 4) & 0x0f0f0f0fu) | (((t >> 4) & 0x03030303u) << 4)),
      static_cast<int>(((u[1] >> 4) & 0x0f0f0f0fu) | (((t >> 6) & 0x03030303u) << 4)));
}

}  // namespace
}  // namespace insitu::kernels

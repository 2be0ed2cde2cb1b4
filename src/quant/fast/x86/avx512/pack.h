// Bit packing of final K-quant levels (one byte per element, element order, values already in
// the type's range) into ggml's block fields, 32 bytes at a time. Integer-only, so exact by
// construction; the scalar loops of quant/ggml branch on every level (q5_K's 5th bit, q3_K's
// high bit), which mispredicts on real data.
//
// Byte-wise shifts use 16-bit shifts on values whose set bits cannot cross into the neighbour
// byte (documented at each use).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace insitu::fastq::avx512 {

inline __m256i load32(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
inline void store32(uint8_t* p, __m256i v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
}
inline __m256i bytes(int v) {
  return _mm256_set1_epi8(static_cast<char>(v));
}

// lo | hi << 4 for bytes lo, hi <= 15 (hi << 4 stays below 256).
inline __m256i nibbles(__m256i lo, __m256i hi) {
  return _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4));
}

// Moves bit 4 of every byte (the only bit kept) to bit `to` (0..7) of the same byte.
inline __m256i bit4_to(__m256i v, int to) {
  const __m256i b = _mm256_and_si256(v, bytes(0x10));
  if (to == 4) return b;
  return to < 4 ? _mm256_srli_epi16(b, 4 - to) : _mm256_slli_epi16(b, to - 4);
}

// q4_K: qs[32c + l] = L[64c + l] | L[64c + 32 + l] << 4, levels 0..15.
inline void pack_q4k(const uint8_t* L, uint8_t* qs) {
  for (int c = 0; c < 4; ++c)
    store32(qs + 32 * c, nibbles(load32(L + 64 * c), load32(L + 64 * c + 32)));
}

// q5_K: as q4_K with the low nibbles, bit 4 of L[64c + l] / L[64c + 32 + l] to bit 2c / 2c+1 of
// qh[l]; levels 0..31.
inline void pack_q5k(const uint8_t* L, uint8_t* qs, uint8_t* qh) {
  __m256i h = _mm256_setzero_si256();
  for (int c = 0; c < 4; ++c) {
    const __m256i a = load32(L + 64 * c), b = load32(L + 64 * c + 32);
    store32(qs + 32 * c, nibbles(_mm256_and_si256(a, bytes(15)), _mm256_and_si256(b, bytes(15))));
    h = _mm256_or_si256(h, _mm256_or_si256(bit4_to(a, 2 * c), bit4_to(b, 2 * c + 1)));
  }
  store32(qh, h);
}

// q6_K, per 128-element half h: ql[64h + l] = q[l] & 15 | (q[l+64] & 15) << 4,
// ql[64h + 32 + l] = q[l+32] & 15 | (q[l+96] & 15) << 4, qh[32h + l] = the top two bits of
// q[l], q[l+32], q[l+64], q[l+96] at bits 0, 2, 4, 6; levels 0..63.
inline void pack_q6k(const uint8_t* q, uint8_t* ql, uint8_t* qh) {
  const __m256i m15 = bytes(15), m3 = bytes(3);
  for (int h = 0; h < 2; ++h, q += 128) {
    const __m256i a = load32(q), b = load32(q + 32), c = load32(q + 64), d = load32(q + 96);
    store32(ql + 64 * h, nibbles(_mm256_and_si256(a, m15), _mm256_and_si256(c, m15)));
    store32(ql + 64 * h + 32, nibbles(_mm256_and_si256(b, m15), _mm256_and_si256(d, m15)));
    // (v >> 4) & 3 per byte: the 16-bit shift brings in bits of the next byte, masked off.
    auto top = [&](__m256i v) { return _mm256_and_si256(_mm256_srli_epi16(v, 4), m3); };
    // top(v) <= 3, so shifting it left by up to 6 stays inside its byte.
    store32(qh + 32 * h, _mm256_or_si256(_mm256_or_si256(top(a), _mm256_slli_epi16(top(b), 2)),
                                         _mm256_or_si256(_mm256_slli_epi16(top(c), 4),
                                                         _mm256_slli_epi16(top(d), 6))));
  }
}

// 2-bit levels (0..3), per 128-element chunk j: qs[j/4 + l] = L[j+l] | L[j+l+32] << 2 |
// L[j+l+64] << 4 | L[j+l+96] << 6.
inline void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < 256; j += 128) {
    const __m256i a = load32(L + j), b = load32(L + j + 32);
    const __m256i c = load32(L + j + 64), d = load32(L + j + 96);
    store32(qs + j / 4,
            _mm256_or_si256(_mm256_or_si256(a, _mm256_slli_epi16(b, 2)),
                            _mm256_or_si256(_mm256_slli_epi16(c, 4), _mm256_slli_epi16(d, 6))));
  }
}

// q3_K levels 0..7: bit 2 of L[32b + m] goes to bit b of hmask[m] and is cleared in L.
inline void split_q3k_high_bit(uint8_t* L, uint8_t* hmask) {
  __m256i h = _mm256_setzero_si256();
  for (int b = 0; b < 8; ++b) {
    const __m256i v = load32(L + 32 * b);
    // Bit 2 shifted within its byte (to bit b <= 7, from bit 2).
    const __m256i hb = _mm256_and_si256(v, bytes(4));
    h = _mm256_or_si256(h, b < 2 ? _mm256_srli_epi16(hb, 2 - b) : _mm256_slli_epi16(hb, b - 2));
    store32(L + 32 * b, _mm256_and_si256(v, bytes(3)));
  }
  store32(hmask, h);
}

}  // namespace insitu::fastq::avx512

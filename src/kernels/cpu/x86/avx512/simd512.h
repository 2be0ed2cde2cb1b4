// AVX-512 helpers shared by the avx512 and amx kernel translation units. Include only from
// translation units compiled with AVX-512 flags. Everything has internal linkage so that no
// AVX-512 code can be merged (ODR) into a copy used by baseline code.
#pragma once

#include <immintrin.h>

// GCC 12's AVX-512 headers build "undefined" vectors with a self-initialisation that
// -Wuninitialized reports inside the intrinsics (false positives, GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cstddef>
#include <cstdint>

namespace insitu::kernels {
namespace {

// Loads 16 weights starting at column c of a row and widens them to f32 (exact for
// f16/bf16). The masked variants read only the lanes in `k` and zero the rest.
struct LoadF32 {
  static constexpr int kBytes = 4;
  static __m512 load(const uint8_t* row, int64_t c) {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + c);
  }
  static __m512 load_mask(const uint8_t* row, int64_t c, __mmask16 k) {
    return _mm512_maskz_loadu_ps(k, reinterpret_cast<const float*>(row) + c);
  }
};

struct LoadF16 {
  static constexpr int kBytes = 2;
  static __m512 load(const uint8_t* row, int64_t c) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * c)));
  }
  static __m512 load_mask(const uint8_t* row, int64_t c, __mmask16 k) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, row + 2 * c));
  }
};

struct LoadBF16 {
  static constexpr int kBytes = 2;
  static __m512 widen(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static __m512 load(const uint8_t* row, int64_t c) {
    return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * c)));
  }
  static __m512 load_mask(const uint8_t* row, int64_t c, __mmask16 k) {
    return widen(_mm256_maskz_loadu_epi16(k, row + 2 * c));
  }
};

// vgf2p8affineqb matrix that moves bits [from, from + n) of every byte to [to, to + n) and
// clears the rest: output bit i is the parity of (row 7 - i) AND the byte, so row 7 - i holds
// the one input bit it copies. One instruction replaces a shift and a mask (and a second shift
// when a bit must move left).
constexpr uint64_t gf2_move(int from, int n, int to) {
  uint64_t m = 0;
  for (int b = 0; b < n; ++b) m |= (uint64_t{1} << (from + b)) << (8 * (7 - (to + b)));
  return m;
}

inline __mmask16 tail_mask16(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << n) - 1u);
}

// In-place transpose of a 16x16 matrix of 32-bit elements held as 16 rows.
// Stage 1 interleaves 32-bit pairs, stage 2 64-bit pairs (within 128-bit lanes), stage 3
// transposes the 4x4 grid of 128-bit lanes.
inline void transpose16x16_epi32(__m512i r[16]) {
  __m512i a[16], b[16];
#pragma GCC unroll 16
  for (int i = 0; i < 8; ++i) {
    a[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
// b[4j + c], lane L = rows 4j..4j+3 of column 4L + c.
#pragma GCC unroll 16
  for (int j = 0; j < 4; ++j) {
    b[4 * j + 0] = _mm512_unpacklo_epi64(a[4 * j], a[4 * j + 2]);
    b[4 * j + 1] = _mm512_unpackhi_epi64(a[4 * j], a[4 * j + 2]);
    b[4 * j + 2] = _mm512_unpacklo_epi64(a[4 * j + 1], a[4 * j + 3]);
    b[4 * j + 3] = _mm512_unpackhi_epi64(a[4 * j + 1], a[4 * j + 3]);
  }
#pragma GCC unroll 16
  for (int c = 0; c < 4; ++c) {
    const __m512i s0 = _mm512_shuffle_i32x4(b[c], b[4 + c], 0x44);
    const __m512i s1 = _mm512_shuffle_i32x4(b[c], b[4 + c], 0xee);
    const __m512i s2 = _mm512_shuffle_i32x4(b[8 + c], b[12 + c], 0x44);
    const __m512i s3 = _mm512_shuffle_i32x4(b[8 + c], b[12 + c], 0xee);
    r[c] = _mm512_shuffle_i32x4(s0, s2, 0x88);
    r[4 + c] = _mm512_shuffle_i32x4(s0, s2, 0xdd);
    r[8 + c] = _mm512_shuffle_i32x4(s1, s3, 0x88);
    r[12 + c] = _mm512_shuffle_i32x4(s1, s3, 0xdd);
  }
}

}  // namespace
}  // namespace insitu::kernels

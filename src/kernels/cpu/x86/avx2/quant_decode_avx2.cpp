// AVX2 row dequantizers (see quant_decode_avx2.h). Bit layouts are ggml's (quant/ggml/blocks.h);
// each block function is the vector transcription of the reference dequantizer of that format
// (quant/ggml/legacy.cpp, kquants_*.cpp), with its float operations in the same order. Every
// block is first turned into 32-byte vectors of int8 levels (the integer the reference converts
// to float), so all types share one int8 -> f32 -> scale tail.
#include "kernels/cpu/x86/avx2/quant_decode_avx2.h"

#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/x86/avx2/decode_blocks_avx2.h"
#include "kernels/cpu/x86/kquant_scales_x86.h"

namespace insitu::kernels::avx2 {
namespace {

// 32 bits -> 32 bytes, byte j = 16 where bit j of the little-endian u32 at p is set.
inline __m256i bits_to_16(const uint8_t* p) {
  uint32_t x;
  std::memcpy(&x, p, 4);
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(x)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
  // Byte j of each 8 leaves only bit j % 8 clear in the mask: all ones iff that bit is set.
  const __m256i probe =
      _mm256_or_si256(spread, _mm256_set1_epi64x(static_cast<long long>(0x7fbfdfeff7fbfdfeull)));
  return _mm256_and_si256(_mm256_cmpeq_epi8(probe, _mm256_set1_epi8(-1)), _mm256_set1_epi8(16));
}

// ---- ggml legacy (32 elements) ----------------------------------------------------------------

// value = (q - 8) * d
void blk_q4_0(const uint8_t* b, float* out) {
  const __m256 d = _mm256_set1_ps(half_at(b));
  put_scaled(out, _mm256_sub_epi8(split_nibbles_lo_hi(b + 2), _mm256_set1_epi8(8)), d, d);
}
// value = q * d + m
void blk_q4_1(const uint8_t* b, float* out) {
  put_madd(out, split_nibbles_lo_hi(b + 4), _mm256_set1_ps(half_at(b)),
           _mm256_set1_ps(half_at(b + 2)));
}
// value = (q - 16) * d, q = nibble | 5th bit from qh.
void blk_q5_0(const uint8_t* b, float* out) {
  const __m256 d = _mm256_set1_ps(half_at(b));
  const __m256i q = _mm256_or_si256(split_nibbles_lo_hi(b + 6), bits_to_16(b + 2));
  put_scaled(out, _mm256_sub_epi8(q, _mm256_set1_epi8(16)), d, d);
}
// value = q * d + m
void blk_q5_1(const uint8_t* b, float* out) {
  const __m256i q = _mm256_or_si256(split_nibbles_lo_hi(b + 8), bits_to_16(b + 4));
  put_madd(out, q, _mm256_set1_ps(half_at(b)), _mm256_set1_ps(half_at(b + 2)));
}
// value = q * d
void blk_q8_0(const uint8_t* b, float* out) {
  const __m256 d = _mm256_set1_ps(half_at(b));
  put_scaled(out, load256(b + 2), d, d);
}

// ---- ggml K-quants (256 elements) -------------------------------------------------------------

// 16 f32 products d * (float)v[k] of 16 integers, stored for broadcasting.
inline void scale16(float d, __m128i v8, bool is_signed, float* out) {
  const __m256 dv = _mm256_set1_ps(d);
  for (int k = 0; k < 2; ++k) {
    const __m128i part = _mm_srli_si128(v8, 8 * k);
    const __m256i w = is_signed ? _mm256_cvtepi8_epi32(part) : _mm256_cvtepu8_epi32(part);
    _mm256_storeu_ps(out + 8 * k, _mm256_mul_ps(dv, _mm256_cvtepi32_ps(w)));
  }
}

// q2_K: scales[16] | qs[64] | d | dmin. Element 128c + 32g + l = (qs[32c + l] >> 2g) & 3;
// value = (d * (sc & 15)) * q - dmin * (sc >> 4), sc = scales[e / 16].
void blk_q2k(const uint8_t* b, float* out) {
  alignas(32) float dl[16], ml[16];
  const __m128i sc = load128(b);
  const __m128i m4 = _mm_set1_epi8(0x0F);
  scale16(half_at(b + 80), _mm_and_si128(sc, m4), false, dl);
  scale16(half_at(b + 82), _mm_and_si128(_mm_srli_epi16(sc, 4), m4), false, ml);
  for (int c = 0; c < 2; ++c) {
    const __m256i v = load256(b + 16 + 32 * c);
    for (int g = 0; g < 4; ++g) {
      const int s = 8 * c + 2 * g;  // sub-block of the first 16 elements
      put_msub(out + 128 * c + 32 * g, and8(srli16(v, 2 * g), 3), _mm256_set1_ps(dl[s]),
               _mm256_set1_ps(ml[s]), _mm256_set1_ps(dl[s + 1]), _mm256_set1_ps(ml[s + 1]));
    }
  }
}

// q3_K: hmask[32] | qs[64] | scales[12] | d. Low 2 bits as q2_K; bit (e / 32) of hmask[e % 32]
// clear means -4. value = (d * scale) * (lo - (hi ? 0 : 4)), scale a 6-bit integer minus 32.
void blk_q3k(const uint8_t* b, float* out) {
  const __m128i packed = q3k_scale_bytes(b + 96);
  alignas(32) float dl[16];
  scale16(half_at(b + 108), _mm_sub_epi8(packed, _mm_set1_epi8(32)), true, dl);
  const __m256i hm = load256(b);
  for (int c = 0; c < 2; ++c) {
    const __m256i v = load256(b + 32 + 32 * c);
    for (int g = 0; g < 4; ++g) {
      const __m256i lo = and8(srli16(v, 2 * g), 3);
      const __m256i hb = _mm256_slli_epi16(and8(srli16(hm, 4 * c + g), 1), 2);
      const __m256i lv = _mm256_sub_epi8(_mm256_or_si256(lo, hb), _mm256_set1_epi8(4));
      const int s = 8 * c + 2 * g;
      put_scaled(out + 128 * c + 32 * g, lv, _mm256_set1_ps(dl[s]), _mm256_set1_ps(dl[s + 1]));
    }
  }
}

// The 12 packed bytes of q4_K / q5_K hold 8 6-bit scales and 8 6-bit mins: sub-blocks 0..3 in
// the low 6 bits of bytes 0..3 (scales) and 4..7 (mins); sub-blocks 4..7 in the nibbles of bytes
// 8..11 plus the top 2 bits of bytes 0..3 / 4..7 (ggml's get_scale_min_k4 on 32-bit words).
// dl[j] = d * scale_j, ml[j] = dmin * min_j.
inline void k4_scales(const uint8_t* b, float* dl, float* ml) {
  const __m128i packed = k4_scale_min_bytes(b + 4);
  const __m128i sc = packed, mn = _mm_srli_si128(packed, 8);  // cvtepu8 reads the low 8 bytes
  _mm256_storeu_ps(
      dl, _mm256_mul_ps(_mm256_set1_ps(half_at(b)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(sc))));
  _mm256_storeu_ps(ml, _mm256_mul_ps(_mm256_set1_ps(half_at(b + 2)),
                                     _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(mn))));
}

// q4_K: d | dmin | scales[12] | qs[128]; 32 bytes per 64 elements, low nibbles first.
// value = dl * q - ml per 32-element sub-block.
void blk_q4k(const uint8_t* b, float* out) {
  alignas(32) float dl[8], ml[8];
  k4_scales(b, dl, ml);
  for (int c = 0; c < 4; ++c) {
    const __m256i q = load256(b + 16 + 32 * c);
    const __m256 d1 = _mm256_set1_ps(dl[2 * c]), m1 = _mm256_set1_ps(ml[2 * c]);
    const __m256 d2 = _mm256_set1_ps(dl[2 * c + 1]), m2 = _mm256_set1_ps(ml[2 * c + 1]);
    put_msub(out + 64 * c, and8(q, 0x0F), d1, m1, d1, m1);
    put_msub(out + 64 * c + 32, and8(srli16(q, 4), 0x0F), d2, m2, d2, m2);
  }
}

// q5_K: q4_K plus qh[32]: bit 2c (2c + 1) of qh[l] adds 16 to element 64c + l (64c + 32 + l).
void blk_q5k(const uint8_t* b, float* out) {
  alignas(32) float dl[8], ml[8];
  k4_scales(b, dl, ml);
  const __m256i qh = load256(b + 16);
  for (int c = 0; c < 4; ++c) {
    const __m256i q = load256(b + 48 + 32 * c);
    const __m256i h1 = _mm256_slli_epi16(and8(srli16(qh, 2 * c), 1), 4);
    const __m256i h2 = _mm256_slli_epi16(and8(srli16(qh, 2 * c + 1), 1), 4);
    const __m256 d1 = _mm256_set1_ps(dl[2 * c]), m1 = _mm256_set1_ps(ml[2 * c]);
    const __m256 d2 = _mm256_set1_ps(dl[2 * c + 1]), m2 = _mm256_set1_ps(ml[2 * c + 1]);
    put_msub(out + 64 * c, _mm256_or_si256(and8(q, 0x0F), h1), d1, m1, d1, m1);
    put_msub(out + 64 * c + 32, _mm256_or_si256(and8(srli16(q, 4), 0x0F), h2), d2, m2, d2, m2);
  }
}

// q6_K: ql[128] | qh[64] | scales[16] (int8) | d; value = (d * sc) * (q - 32).
void blk_q6k(const uint8_t* b, float* out) {
  alignas(32) float ds[16];
  scale16(half_at(b + 208), load128(b + 192), true, ds);
  const __m256i z = _mm256_set1_epi8(32);
  for (int h = 0; h < 2; ++h) {
    const __m256i qa = load256(b + 64 * h), qb = load256(b + 64 * h + 32);
    const __m256i qh = load256(b + 128 + 32 * h);
    auto hi2 = [&](int shift) { return _mm256_slli_epi16(and8(srli16(qh, shift), 3), 4); };
    const __m256i lv[4] = {_mm256_or_si256(and8(qa, 0x0F), hi2(0)),
                           _mm256_or_si256(and8(qb, 0x0F), hi2(2)),
                           _mm256_or_si256(and8(srli16(qa, 4), 0x0F), hi2(4)),
                           _mm256_or_si256(and8(srli16(qb, 4), 0x0F), hi2(6))};
    for (int k = 0; k < 4; ++k) {
      const int s = 8 * h + 2 * k;
      put_scaled(out + 128 * h + 32 * k, _mm256_sub_epi8(lv[k], z), _mm256_set1_ps(ds[s]),
                 _mm256_set1_ps(ds[s + 1]));
    }
  }
}

// ---- q8_1 / q8_K (the activation types, also weight types): value = q * d ------------------

void blk_q8_1(const uint8_t* b, float* out) {  // f16 d | f16 s | int8 q[32]
  const __m256 d = _mm256_set1_ps(half_at(b));
  put_scaled(out, load256(b + 4), d, d);
}
void blk_q8k(const uint8_t* b, float* out) {  // f32 d | int8 q[256] | bsums
  const __m256 dv = _mm256_set1_ps(f32_at(b));
  for (int k = 0; k < 8; ++k) put_scaled(out + 32 * k, load256(b + 4 + 32 * k), dv, dv);
}

// ---- Row wrappers -----------------------------------------------------------------------------

DequantBlocksFn ggml_dequantizer(QuantType t) {
  using QT = QuantType;
  switch (t) {
    case QT::kQ4_0: return vector_rows<blk_q4_0, 32, 18>;
    case QT::kQ4_1: return vector_rows<blk_q4_1, 32, 20>;
    case QT::kQ5_0: return vector_rows<blk_q5_0, 32, 22>;
    case QT::kQ5_1: return vector_rows<blk_q5_1, 32, 24>;
    case QT::kQ8_0: return vector_rows<blk_q8_0, 32, 34>;
    case QT::kQ8_1: return vector_rows<blk_q8_1, 32, 36>;
    case QT::kQ2K: return vector_rows<blk_q2k, 256, 84>;
    case QT::kQ3K: return vector_rows<blk_q3k, 256, 110>;
    case QT::kQ4K: return vector_rows<blk_q4k, 256, 144>;
    case QT::kQ5K: return vector_rows<blk_q5k, 256, 176>;
    case QT::kQ6K: return vector_rows<blk_q6k, 256, 210>;
    case QT::kQ8K: return vector_rows<blk_q8k, 256, 292>;
    default: return nullptr;
  }
}

}  // namespace

DequantBlocksFn avx2_dequantizer(QuantType t) {
  if (DequantBlocksFn f = ggml_dequantizer(t)) return f;
  return afq_hqq_fp_dequantizer(t);
}

}  // namespace insitu::kernels::avx2

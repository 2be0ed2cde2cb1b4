// The row-group block kernels of q4_K, q5_K and q4_0 (nibble codes). Include only from
// quant_gemv_groups_avx512.cpp, after quant_gemv_groups_common_avx512.h.
#pragma once

#include "kernels/cpu/x86/avx512/quant_gemv_groups_common_avx512.h"

namespace insitu::kernels::avx512 {
namespace {

// ---- q4_K: fields d, dmin (f16), scales (3 words), qs (32 words). ----
// qs word 8c + w (bytes 32c + 4w..32c + 4w + 3 of a row's qs) holds in its low nibbles elements
// 64c + 4w + i (sub-block 2c) and in its high nibbles elements 64c + 32 + 4w + i (sub-block
// 2c + 1), i < 4: ggml's q4_K order. Both nibbles are dotted in place, one AND each (the high
// one is 16 times its code; sxa holds the 1/16), so a 64-byte load of 16 rows' words costs two
// ANDs and two vpdpbusd per digit. Scale words s0, s1, s2 (ggml's get_scale_min_k4): bits 0..5
// of s0's / s1's bytes are the scales / minimums of sub-blocks 0..3; those of sub-blocks 4..7
// are the low / high nibbles of s2's bytes with bits 6..7 of s0's / s1's bytes on top.
//
// q5_K (fields d, dmin, scales, qh (8 words), qs) adds a fifth bit to each code: bit 2c (low
// nibbles) or 2c + 1 (high nibbles) of the bytes of qh word w. Its codes are built in bits 0..4
// (a GF(2) affine op moves the bit, a ternary-logic op merges it; the high nibble is shifted
// down first), so they are not in place. Its activations have one scale per 4-element lane
// (kActivationLane8): with 16-element groups the demo model's q5_K decode logits moved by 19%
// of the type's own quantization error (Isq.KernelsAddNoErrorOfTheirOwn allows 20%), with lanes
// by 11%, at no measurable decode cost (tg64 q5k alternated medians 25.6 vs 26.9 and 28.2 vs
// 27.7 t/s). Each lane's dot is converted and scaled, and a sub-block's lanes summed in f32
// before its scale.
constexpr size_t kQ4KColumn = 16 * 144, kQ5KColumn = 16 * 176;
constexpr size_t kQ4KD = 0, kQ4KDmin = 32, kQ4KScales = 64, kQ4KQs = 256;
constexpr size_t kQ5KQh = 256, kQ5KQs = 768;  // d, dmin, scales as in q4_K

// Sub-blocks 4..7's 6-bit fields in bits 0..5 of each byte (bits 6..7 are left over and masked
// by the reader): (low & 0x0F) | (top bits of `high_src` moved from bits 6..7 to 4..5).
inline __m512i q4k_upper_fields(__m512i low, __m512i high_src) {
  return _mm512_ternarylogic_epi32(low, _mm512_srli_epi32(high_src, 2), _mm512_set1_epi8(0x0F),
                                   0xE4);
}

// kQ5: q5_K's layout and codes (see above).
template <int D, int NG, bool kQ5 = false>
__attribute__((always_inline)) inline void q4k_block(const uint8_t* const (&cols)[NG], int64_t b,
                                                     const PrepView& x, __m512 (&acc)[NG]) {
  constexpr size_t kColumn = kQ5 ? kQ5KColumn : kQ4KColumn, kQs = kQ5 ? kQ5KQs : kQ4KQs;
  // Scale words of sub-blocks 0..3 and 4..7; minimum words likewise.
  __m512i sw[NG][2], mw[NG][2];
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g) {
    const uint8_t* sp = cols[g] + kQ4KScales;
    const __m512i s0 = load(sp), s1 = load(sp + 64), s2 = load(sp + 128);
    sw[g][0] = s0;
    sw[g][1] = q4k_upper_fields(s2, s0);
    mw[g][0] = s1;
    mw[g][1] = q4k_upper_fields(_mm512_srli_epi32(s2, 4), s1);
  }
  __m512 scaled[NG];
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g) scaled[g] = _mm512_setzero_ps();
    // Per 64-element chunk c and its 16-element half: two accumulators per group (sub-blocks 2c
    // and 2c + 1) and digit, few enough registers for four groups at once.
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
#pragma GCC unroll 2
    for (int half = 0; half < 2; ++half) {
      __m512i a[NG][2][D];  // [g][h: sub-block 2c + h][p] (q4_K: 16-element groups)
      __m512 f[NG][2];      // [g][h] (q5_K: per-lane scales, summed in f32)
#pragma GCC unroll 4
      for (int g = 0; g < NG; ++g)
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
          f[g][h] = _mm512_setzero_ps();
#pragma GCC unroll 3
          for (int p = 0; p < D; ++p) a[g][h][p] = fresh_zero();
        }
#pragma GCC unroll 4
      for (int w = 4 * half; w < 4 * half + 4; ++w) {
        prefetch_column_step<NG, kColumn, 32>(cols, 8 * c + w);
        __m512i v[NG], hq[NG];
#pragma GCC unroll 4
        for (int g = 0; g < NG; ++g) {
          v[g] = load(cols[g] + kQs + (8 * c + w) * 64);
          // volatile: GCC would keep qh's 8 words of every group live across the chunks
          if constexpr (kQ5) hq[g] = load_fresh(cols[g] + kQ5KQh + w * 64);
        }
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
          const int8_t* digits = x.digits + (8 * b + 2 * c + h) * D * 32 + 4 * w;
          __m512i code[NG];
#pragma GCC unroll 4
          for (int g = 0; g < NG; ++g) {
            if constexpr (kQ5) {
              // (nibble) | (qh bit 2c + h moved to bit 4)
              const __m512i nib = h ? _mm512_srli_epi16(v[g], 4) : v[g];
              code[g] = _mm512_ternarylogic_epi32(nib, gf2(hq[g], gf2_move(2 * c + h, 1, 4)),
                                                  _mm512_set1_epi8(0x0F), 0xE4);
            } else {
              code[g] =
                  _mm512_and_si512(v[g], _mm512_set1_epi8(static_cast<char>(h ? 0xF0 : 0x0F)));
            }
          }
          if constexpr (kQ5) {  // each lane's dot scaled by its own activation scale
            const __m512 sx = _mm512_set1_ps(x.sxa[64 * b + 16 * c + 8 * h + w]);
#pragma GCC unroll 4
            for (int g = 0; g < NG; ++g) {
              __m512i al[D];
#pragma GCC unroll 3
              for (int p = 0; p < D; ++p)
                al[p] = _mm512_dpbusd_epi32(fresh_zero(), code[g], bcast4(digits + 32 * p));
              f[g][h] = _mm512_fmadd_ps(combine<D>(al), sx, f[g][h]);
            }
          } else {
#pragma GCC unroll 3
            for (int p = 0; p < D; ++p) {
              const __m512i dp = bcast4(digits + 32 * p);
#pragma GCC unroll 4
              for (int g = 0; g < NG; ++g)
                a[g][h][p] = _mm512_dpbusd_epi32(a[g][h][p], code[g], dp);
            }
          }
        }
      }
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        const int j = 2 * c + h;  // sub-block
        const __m512i mask = _mm512_set1_epi32(0x3F << (8 * (j % 4)));
#pragma GCC unroll 4
        for (int g = 0; g < NG; ++g) {
          // 256^(j % 4) * scale_j, exact in f32; sxa holds the 256^-(j % 4) (and for q4_K the
          // 1/16 of odd sub-blocks' in-place high nibbles).
          const __m512 sc = _mm512_cvtepi32_ps(_mm512_and_si512(sw[g][j / 4], mask));
          if constexpr (kQ5)
            scaled[g] = _mm512_fmadd_ps(f[g][h], sc, scaled[g]);
          else
            scaled[g] = _mm512_fmadd_ps(
                combine<D>(a[g][h]),
                _mm512_mul_ps(sc, _mm512_set1_ps(x.sxa[kSubBlocks * b + 2 * j + half])), scaled[g]);
        }
      }
    }
  }
  // Minimums: sum_j m_j * S_j (6 bits per byte of the two minimum words).
  add_block_terms<NG, 2>(
      cols, x, b, kQ4KD, kQ4KDmin,
      [&](int g, int q) { return _mm512_and_si512(mw[g][q], _mm512_set1_epi8(0x3F)); }, scaled,
      acc);
}

// ---- q4_0: fields d (f16), qs (4 words). ----
// qs word w holds in its low nibbles elements 4w + i and in its high nibbles 16 + 4w + i
// (i < 4) of the 32-element block; value (code - 8) * d. Both nibbles are dotted in place (the
// high one is 16 times its code; sxa holds the 1/16), each 4-element lane's dot starts at its
// share of the -8 (PrepView::init) and is scaled by its own activation scale.
constexpr size_t kQ40Column = 16 * 18;
constexpr size_t kQ40D = 0, kQ40Qs = 32;

// The lane dots of a 32-element block in q4_0's nibble order (q4_0, and MXFP4 in
// quant_gemv_groups_mxfp4_avx512.h): f[g] = sum over the block's 8 lanes of (the lane's integer
// dot, started at PrepView::init) * its activation scale. code(g, w, v, h) gives the codes of
// group g's word w (v) from its low (h = 0) or high (h = 1) nibbles as bytes.
template <int D, int NG, size_t kColumn, size_t kQs, class Code>
__attribute__((always_inline)) inline void nibble_lane_dots(const uint8_t* const (&cols)[NG],
                                                            int64_t b, const PrepView& x,
                                                            Code&& code, __m512 (&f)[NG]) {
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g) f[g] = _mm512_setzero_ps();
#pragma GCC unroll 4
  for (int w = 0; w < 4; ++w) {
    prefetch_column_step<NG, kColumn, 4>(cols, w);
    __m512i v[NG];
#pragma GCC unroll 4
    for (int g = 0; g < NG; ++g) v[g] = load(cols[g] + kQs + 64 * w);
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const int64_t lane = 8 * b + 4 * h + w;  // elements 16h + 4w..16h + 4w + 3
      const int8_t* digits = x.digits + b * D * 32 + 16 * h + 4 * w;
      __m512i a[NG][D];
#pragma GCC unroll 4
      for (int g = 0; g < NG; ++g) {
        const __m512i c = code(g, w, v[g], h);
#pragma GCC unroll 3
        for (int p = 0; p < D; ++p)
          a[g][p] = _mm512_dpbusd_epi32(broadcast_fresh(&x.init[lane * kMaxDigits + p]), c,
                                        bcast4(digits + 32 * p));
      }
      const __m512 sx = _mm512_set1_ps(x.sxa[lane]);
#pragma GCC unroll 4
      for (int g = 0; g < NG; ++g) f[g] = _mm512_fmadd_ps(combine<D>(a[g]), sx, f[g]);
    }
  }
}

template <int D, int NG>
__attribute__((always_inline)) inline void q4_0_block(const uint8_t* const (&cols)[NG], int64_t b,
                                                      const PrepView& x, __m512 (&acc)[NG]) {
  __m512 f[NG];
  nibble_lane_dots<D, NG, kQ40Column, kQ40Qs>(
      cols, b, x,
      [](int, int, __m512i v, int h) {
        return _mm512_and_si512(v, _mm512_set1_epi8(static_cast<char>(h ? 0xF0 : 0x0F)));
      },
      f);
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g) acc[g] = _mm512_fmadd_ps(load_f16x16(cols[g] + kQ40D), f[g], acc[g]);
}

// ---- q5_0: fields d (f16), qh (1 word), qs (4 words); q5_1: d, m (f16), qh, qs; q4_1: d, m, qs.
// q4_0's nibble order; bit e of a row's qh word is the fifth bit of element e. Lane (w, h) takes
// qh bits 16h + 4w + i (i < 4): one vpmultishiftqb moves bit 16h + 4w + i to bit 4 of byte i
// of each row's dword (its window starts 4 bits lower: for the first lane that wraps to the
// other row's top bits, which land below bit 4 and are masked), and one ternary-logic op puts it
// over the nibble. value = (code - 16) d (q5_0: the -16 through PrepView::init) or code d + m
// (q5_1, q4_1: m times the block's sum of x~, PrepView::sxb).
constexpr size_t kQ50Column = 16 * 22, kQ51Column = 16 * 24, kQ41Column = 16 * 20;

template <int D, int NG, bool kMin, bool kFifth = true>
__attribute__((always_inline)) inline void legacy_nibble_block(const uint8_t* const (&cols)[NG],
                                                               int64_t b, const PrepView& x,
                                                               __m512 (&acc)[NG]) {
  constexpr size_t kColumn = !kFifth ? kQ41Column : kMin ? kQ51Column : kQ50Column;
  constexpr size_t kQh = kMin ? 64 : 32, kQs = kFifth ? kQh + 64 : kQh;
  __m512 f[NG];
  nibble_lane_dots<D, NG, kColumn, kQs>(
      cols, b, x,
      [&](int g, int w, __m512i v, int h) {
        const __m512i nib =
            h ? gf2(v, gf2_move(4, 4, 0)) : _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
        if constexpr (!kFifth) return nib;
        const __m512i high = _mm512_multishift_epi64_epi8(
            _mm512_set1_epi64(dword_multishift_control(16 * h + 4 * w - 4, 1)),
            load(cols[g] + kQh));
        // nib | (high & 0x10)
        return _mm512_ternarylogic_epi32(nib, high, _mm512_set1_epi8(0x10), 0xF8);
      },
      f);
  const __m512 sum_x = _mm512_set1_ps(x.sxb[b]);
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g) {
    const __m512 base = kMin ? _mm512_fmadd_ps(load_f16x16(cols[g] + 32), sum_x, acc[g]) : acc[g];
    acc[g] = _mm512_fmadd_ps(load_f16x16(cols[g]), f[g], base);
  }
}

}  // namespace
}  // namespace insitu::kernels::avx512

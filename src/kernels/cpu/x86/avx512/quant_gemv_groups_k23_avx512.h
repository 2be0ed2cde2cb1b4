// The row-group block kernels of q2_K and q3_K (2- and 3-bit codes in bit planes). Include only
// from quant_gemv_groups_avx512.cpp, after quant_gemv_groups_common_avx512.h.
#pragma once

#include "kernels/cpu/x86/avx512/quant_gemv_groups_common_avx512.h"
#include "quant/layout/q3k_group_codes.h"

namespace insitu::kernels::avx512 {
namespace {

// Integer dot sums of one pass over a quarter block (NP planes k0..k0 + NP - 1 of the words
// 4h..4h + 3 of half block n, i.e. sub-blocks 8n + 2k + h): a[g][k - k0][p] for group g and
// activation digit p; zeroed on construction.
template <int NG, int NP, int D>
struct PassSums {
  __m512i a[NG][NP][D];
  __attribute__((always_inline)) PassSums() {
#pragma GCC unroll 4
    for (int g = 0; g < NG; ++g)
#pragma GCC unroll 4
      for (int k = 0; k < NP; ++k)
#pragma GCC unroll 3
        for (int p = 0; p < D; ++p) a[g][k][p] = fresh_zero();
  }
  // Sub-block j of the pass's k starts digit p at init[j * kMaxDigits + p] (init: the block's).
  __attribute__((always_inline)) PassSums(const int32_t* init, int n, int h, int k0) {
#pragma GCC unroll 4
    for (int k = 0; k < NP; ++k)
#pragma GCC unroll 3
      for (int p = 0; p < D; ++p)
#pragma GCC unroll 4
        for (int g = 0; g < NG; ++g)
          a[g][k][p] = broadcast_fresh(&init[(8 * n + 2 * (k0 + k) + h) * kMaxDigits + p]);
  }
};

// Planes per pass of the q2_K block kernel: all four for one or two groups; two for four
// groups, whose accumulators and words would not fit in registers otherwise (each pass reloads
// the words from L1). Sub-blocks are summed in the same order (n, h, k) either way, so a row's
// result does not depend on how many groups it ran with.
constexpr int planes_per_pass(int ng) {
  return ng <= 2 ? 4 : 2;
}

// ---- q2_K: fields scales (4 words), qs (16 words), d, dmin (f16). ----
// qs word u (bytes 4u..4u+3 of a row's block) holds, in bit pair k, elements
// 128n + 32k + 4(u % 8) + i (n = u / 8, i < 4) of sub-block 8n + 2k + (u % 8) / 4, ggml's
// q2_K order; scales byte j (word j / 4, byte j % 4) is sub-block j's scale (low nibble) and
// minimum (high nibble).
constexpr size_t kQ2KColumn = 16 * 84;  // one block column of a group
constexpr size_t kQ2KQs = 256, kQ2KD = 1280, kQ2KDmin = 1312;

// Block column b of NG groups (cols[g]) dotted with one activation row, added to acc[g].
template <int D, int NG>
__attribute__((always_inline)) inline void q2k_block(const uint8_t* const (&cols)[NG], int64_t b,
                                                     const PrepView& x, __m512 (&acc)[NG]) {
  __m512 scaled[NG];
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g) scaled[g] = _mm512_setzero_ps();
  constexpr int NP = planes_per_pass(NG);
#pragma GCC unroll 2
  for (int n = 0; n < 2; ++n)
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h)
#pragma GCC unroll 4  // all passes: plane k must be a constant (masks, GF(2) matrices)
      for (int k0 = 0; k0 < 4; k0 += NP) {
        PassSums<NG, NP, D> sums;
        auto& a = sums.a;
#pragma GCC unroll 4
        for (int w = 4 * h; w < 4 * h + 4; ++w) {
          prefetch_column_step<NG, kQ2KColumn, 64 / NP>(
              cols, ((2 * n + h) * (4 / NP) + k0 / NP) * 4 + w - 4 * h);
          __m512i v[NG];
#pragma GCC unroll 4
          for (int g = 0; g < NG; ++g)  // volatile: GCC would keep every pass's words live
            v[g] = load_fresh(cols[g] + kQ2KQs + (8 * n + w) * 64);
#pragma GCC unroll 4
          for (int k = k0; k < k0 + NP; ++k) {
            const __m512i mask = _mm512_set1_epi8(static_cast<char>(3 << (2 * k)));
            const int8_t* digits = x.digits + (8 * b + 4 * n + k) * D * 32 + 4 * w;
#pragma GCC unroll 3
            for (int p = 0; p < D; ++p) {
              const __m512i dp = bcast4(digits + 32 * p);
#pragma GCC unroll 4
              for (int g = 0; g < NG; ++g)
                a[g][k - k0][p] =
                    _mm512_dpbusd_epi32(a[g][k - k0][p], _mm512_and_si512(v[g], mask), dp);
            }
          }
        }
#pragma GCC unroll 4
        for (int k = k0; k < k0 + NP; ++k) {
          const int j = 8 * n + 2 * k + h;
          const __m512 sxa = _mm512_set1_ps(x.sxa[kSubBlocks * b + j]);
          const __m512i mask = _mm512_set1_epi32(15 << (8 * (j % 4)));
#pragma GCC unroll 4
          for (int g = 0; g < NG; ++g) {
            // 256^(j % 4) * scale_j, exact in f32; sxa holds the 256^-(j % 4).
            const __m512 sc =
                _mm512_cvtepi32_ps(_mm512_and_si512(load(cols[g] + 64 * (j / 4)), mask));
            scaled[g] =
                _mm512_fmadd_ps(combine<D>(a[g][k - k0]), _mm512_mul_ps(sc, sxa), scaled[g]);
          }
        }
      }
  // Minimums: sum_j 16 m_j * S_j (scale word q holds sub-blocks 4q..4q + 3, minimum in the
  // high nibble; sscale holds the 1/16).
  add_block_terms<NG, 4>(
      cols, x, b, kQ2KD, kQ2KDmin,
      [&](int g, int q) {
        return _mm512_and_si512(load(cols[g] + 64 * q), _mm512_set1_epi8(static_cast<char>(0xF0)));
      },
      scaled, acc);
}

// ---- q3_K: code words (24), scales (3 words), d (f16); q3k_group_codes.h. ----
// Plane p = 4n + k (ggml's elements 128n + 32k + l) of word position w = l / 4: code words
// X_w, Y_w, Z_w hold planes 0..1, 2..3, 4..5 as byte AND 7 and AND 0x38 (1 and 8 times the
// code), and planes 6 and 7 in their top two bits with the low bit in Y_w's bit 6 or 7, moved to
// bit 5 by one GF(2) op and merged by one ternary-logic op (32 times the code). Value
// d * (scale_j - 32) * (code - 4), j = 8n + 2k + l / 16; the -4 is applied through the start of
// each sub-block's dot (PrepView::init), the in-place factors through sxa (plane_shift).
constexpr size_t kQ3KColumn = 16 * 110;
constexpr size_t kQ3KScales = 1536, kQ3KD = 1728;
static_assert(kQ3KScales == q3k_group_codes::kCodeBytes);

// Scale bytes 4q..4q+3 of every row (lane), ggml's q3_K unpacking of the 12 bytes in words s0,
// s1, s2: bits 0..5 of byte j are scale_j + 32 (unsigned; bits 6..7 are left over and masked
// by the reader).
inline __m512i q3k_scale_word(int q, __m512i s0, __m512i s1, __m512i s2) {
  const __m512i low = q < 2 ? (q == 0 ? s0 : s1) : _mm512_srli_epi32(q == 2 ? s0 : s1, 4);
  // Bits 2q..2q+1 of s2's bytes to bits 4..5.
  const __m512i high = q == 0   ? _mm512_slli_epi32(s2, 4)
                       : q == 1 ? _mm512_slli_epi32(s2, 2)
                       : q == 2 ? s2
                                : _mm512_srli_epi32(s2, 2);
  // (low & 0x0F) | (high & 0xF0)
  return _mm512_ternarylogic_epi32(low, high, _mm512_set1_epi8(0x0F), 0xE4);
}

template <int D, int NG>
__attribute__((always_inline)) inline void q3k_block(const uint8_t* const (&cols)[NG], int64_t b,
                                                     const PrepView& x, __m512 (&acc)[NG]) {
  __m512 scaled[NG];
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g) scaled[g] = _mm512_setzero_ps();
  const int32_t* init = x.init + kSubBlocks * b * kMaxDigits;
  // The four scale words of each group, made once per block (each serves four passes) and
  // parked in L1: stores and loads instead of 30 shift/merge ops per group and block.
  alignas(64) uint8_t scale_words[NG][4][64];
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g) {
    const uint8_t* sp = cols[g] + kQ3KScales;
    const __m512i s0 = load(sp), s1 = load(sp + 64), s2 = load(sp + 128);
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q)
      _mm512_store_si512(scale_words[g][q], q3k_scale_word(q, s0, s1, s2));
  }
  // Passes over half h of the words and a pair of planes (code word pp < 3, or planes 6 and 7):
  // two accumulators per group and digit, so four groups fit in registers.
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h)
#pragma GCC unroll 4  // all passes: the plane pair must be a constant (masks, GF(2) matrices)
    for (int pp = 0; pp < 4; ++pp) {
      const int n = pp / 2, k0 = 2 * (pp % 2);  // planes (n, k0) and (n, k0 + 1)
      // Each digit's dot starts at -4 * 2^shift * (digit sum): q3_K's code offset.
      PassSums<NG, 2, D> sums(init, n, h, k0);
      auto& a = sums.a;
#pragma GCC unroll 4
      for (int w = 4 * h; w < 4 * h + 4; ++w) {
        prefetch_column_step<NG, kQ3KColumn, 32>(cols, (4 * h + pp) * 4 + w - 4 * h);
        __m512i code[NG][2];
#pragma GCC unroll 4
        for (int g = 0; g < NG; ++g) {
          const uint8_t* words = cols[g] + 3 * 64 * w;
          // volatile loads: GCC would keep every pass's words live (and spill them)
          if (pp < 3) {
            const __m512i v = load_fresh(words + 64 * pp);
            code[g][0] = _mm512_and_si512(v, _mm512_set1_epi8(7));
            code[g][1] = _mm512_and_si512(v, _mm512_set1_epi8(0x38));
          } else {
            const __m512i xw = load_fresh(words), yw = load_fresh(words + 64),
                          zw = load_fresh(words + 128);
            const __m512i top = _mm512_set1_epi8(static_cast<char>(0xC0));
            // (top bits of X or Z) | (Y's bit 6 or 7 at bit 5): immediate 0xF8 = A | (B & C)
            code[g][0] = _mm512_ternarylogic_epi32(gf2(yw, gf2_move(6, 1, 5)), xw, top, 0xF8);
            code[g][1] = _mm512_ternarylogic_epi32(gf2(yw, gf2_move(7, 1, 5)), zw, top, 0xF8);
          }
        }
#pragma GCC unroll 2
        for (int e = 0; e < 2; ++e) {
          const int8_t* digits = x.digits + (8 * b + 4 * n + k0 + e) * D * 32 + 4 * w;
#pragma GCC unroll 3
          for (int p = 0; p < D; ++p) {
            const __m512i dp = bcast4(digits + 32 * p);
#pragma GCC unroll 4
            for (int g = 0; g < NG; ++g)
              a[g][e][p] = _mm512_dpbusd_epi32(a[g][e][p], code[g][e], dp);
          }
        }
      }
#pragma GCC unroll 2
      for (int e = 0; e < 2; ++e) {
        const int k = k0 + e, j = 8 * n + 2 * k + h;
        const __m512 sxa = _mm512_set1_ps(x.sxa[kSubBlocks * b + j]);
        const __m512 sxb = _mm512_set1_ps(x.sxb[kSubBlocks * b + j]);
        const __m512i mask = _mm512_set1_epi32(0x3F << (8 * (j % 4)));
#pragma GCC unroll 4
        for (int g = 0; g < NG; ++g) {
          // Sub-block j's scale: scale word 2n + k / 2 (bytes 4q..4q + 3 are sub-blocks
          // 4q..4q + 3).
          const __m512i sw = load_fresh(scale_words[g][2 * n + k / 2]);
          // (scale_j + 32) * 256^(j % 4), exact in f32; times sxa minus sxb: scale_j * sx /
          // 2^shift.
          const __m512 sc = _mm512_cvtepi32_ps(_mm512_and_si512(sw, mask));
          scaled[g] =
              _mm512_fmadd_ps(combine<D>(a[g][e]), _mm512_fmsub_ps(sc, sxa, sxb), scaled[g]);
        }
      }
    }
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g)
    acc[g] = _mm512_fmadd_ps(load_f16x16(cols[g] + kQ3KD), scaled[g], acc[g]);
}

}  // namespace
}  // namespace insitu::kernels::avx512

// The row-group block kernel of the AFQ types (afq2, afq3, afq4, afq6, afq8). Include only from
// quant_gemv_groups_avx512.cpp, after quant_gemv_groups_common_avx512.h.
#pragma once

#include "kernels/cpu/x86/avx512/quant_gemv_groups_common_avx512.h"

namespace insitu::kernels::avx512 {
namespace {

// ---- AFQ: fields scale, bias (f16), codes (2 * kBits words); group 64, value code * s + b. ----
// The codes are MLX's little-endian bit stream: element e of the group at bit kBits * e of the
// row's code words. Activations have one scale per aligned 4-element lane
// (OperandRounding::kActivationLane8, as the row-format AFQ kernels): with one per 16 elements
// the rounding error with outlier activations reached 1.05-1.3x kRoundedCond
// (tests/kernels/quant_matmul_test.cpp). So each vpdpbusd takes one lane, 4 consecutive codes
// (4 kBits bits from bit 4 kBits l): a vpmultishiftqb moves code i to byte i of each row's dword
// and an AND keeps its bits (afq8: already in place). A lane that straddles two words (afq3:
// 2 of 8, afq6: 2 of 4) is first shifted out of the pair with one vpshrdd. The lane's dot is
// converted and scaled by its own activation scale (one convert and one FMA per 4 elements and
// 16 rows, as q4_0; exact mode, whose 3 digits are f32-grade with any grouping, has one scale
// per 16 elements). A weight group ends with acc += s * (sum of the lanes) + b * S, S the
// group's sum of x~ (PrepView::sxb).
template <int kBits>
struct AfqGroups {
  static_assert(kBits == 2 || kBits == 3 || kBits == 4 || kBits == 6 || kBits == 8);
  static constexpr size_t kBlockBytes = 4 + 8 * kBits;
  static constexpr size_t kColumn = 16 * kBlockBytes;
  static constexpr size_t kScale = 0, kBias = 32, kCodes = 64;
  // Lane l: code word, bit offset in it, and whether it runs into the next word.
  static constexpr int word(int l) { return 4 * kBits * l / 32; }
  static constexpr int offset(int l) { return 4 * kBits * l % 32; }
  static constexpr bool straddles(int l) { return offset(l) + 4 * kBits > 32; }
};

template <int kBits, int D, int NG>
__attribute__((always_inline)) inline void afq_block(const uint8_t* const (&cols)[NG], int64_t b,
                                                     const PrepView& x, __m512 (&acc)[NG]) {
  using A = AfqGroups<kBits>;
  // Exact mode's scales are per 16 elements (4 lanes): the 3-digit dots of a group's lanes add
  // up in integers, one combine and FMA per 16 elements (a combine per lane cost afq8 5%).
  constexpr int kLanesPerScale = D == 1 ? 1 : 4;
  __m512 f[NG];
  __m512i a[NG][D];
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g) f[g] = _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int l = 0; l < 16; ++l) {  // 4-element lane of the weight group
    prefetch_column_step<NG, A::kColumn, 16>(cols, l);
    const int64_t lane = 16 * b + l;
    const int8_t* digits = x.digits + (lane / 8) * D * 32 + 4 * (lane % 8);
    if (l % kLanesPerScale == 0)
#pragma GCC unroll 4
      for (int g = 0; g < NG; ++g)
#pragma GCC unroll 3
        for (int p = 0; p < D; ++p) a[g][p] = fresh_zero();
#pragma GCC unroll 4
    for (int g = 0; g < NG; ++g) {
      const uint8_t* words = cols[g] + A::kCodes + 64 * A::word(l);
      __m512i code = load(words);
      if constexpr (kBits < 8) {
        int base = A::offset(l);
        if (A::straddles(l)) {
          code = _mm512_shrdi_epi32(code, load(words + 64), A::offset(l));
          base = 0;
        }
        code = _mm512_and_si512(_mm512_multishift_epi64_epi8(
                                    _mm512_set1_epi64(dword_multishift_control(base, kBits)), code),
                                _mm512_set1_epi8((1 << kBits) - 1));
      }
#pragma GCC unroll 3
      for (int p = 0; p < D; ++p)
        a[g][p] = _mm512_dpbusd_epi32(a[g][p], code, bcast4(digits + 32 * p));
    }
    if (l % kLanesPerScale == kLanesPerScale - 1) {
      const __m512 sx = _mm512_set1_ps(x.sxa[lane / kLanesPerScale]);
#pragma GCC unroll 4
      for (int g = 0; g < NG; ++g) f[g] = _mm512_fmadd_ps(combine<D>(a[g]), sx, f[g]);
    }
  }
  const __m512 sum_x = _mm512_set1_ps(x.sxb[b]);
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g)
    acc[g] = _mm512_fmadd_ps(load_f16x16(cols[g] + A::kScale), f[g],
                             _mm512_fmadd_ps(load_f16x16(cols[g] + A::kBias), sum_x, acc[g]));
}

}  // namespace
}  // namespace insitu::kernels::avx512

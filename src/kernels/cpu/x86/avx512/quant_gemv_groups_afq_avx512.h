// The row-group block kernel of afq2, afq4 and afq8 (codes whose width divides a byte). Include
// only from quant_gemv_groups_avx512.cpp, after quant_gemv_groups_common_avx512.h.
#pragma once

#include "kernels/cpu/x86/avx512/quant_gemv_groups_common_avx512.h"

namespace insitu::kernels::avx512 {
namespace {

// ---- AFQ: fields scale, bias (f16), codes (2 * kBits words); group 64, value code * s + b. ----
// The codes are MLX's little-endian bit stream: code word u holds elements 32u / kBits.. of the
// group, element e at bit kBits * e of it. Activations have one scale per aligned 4-element lane
// (OperandRounding::kActivationLane8, as the row-format AFQ kernels): with one per 16 elements
// the rounding error with outlier activations reached 1.05-1.3x kRoundedCond
// (tests/kernels/quant_matmul_test.cpp). So each vpdpbusd takes one lane, 4 consecutive codes:
// a vpmultishiftqb moves code i of the lane to byte i of each row's dword (afq8: already there)
// and an AND keeps its bits; the lane's dot is converted and scaled by its own activation scale
// (one convert and one FMA per 4 elements and 16 rows, as q4_0; exact mode, whose 3 digits are
// f32-grade with any grouping, has one scale per 16 elements). A weight group ends with
// acc += s * (sum of the lanes) + b * S, S the group's sum of x~ (PrepView::sxb).
template <int kBits>
struct AfqGroups {
  static_assert(kBits == 2 || kBits == 4 || kBits == 8);
  static constexpr int kLanesPerWord = 8 / kBits;
  static constexpr size_t kBlockBytes = 4 + 8 * kBits;
  static constexpr size_t kColumn = 16 * kBlockBytes;
  static constexpr size_t kScale = 0, kBias = 32, kCodes = 64;
  // vpmultishiftqb control of lane k of a word: byte i of each dword from bit (4k + i) * kBits
  // of that dword (the qword's high dword: 32 bits further).
  static constexpr long long lane_control(int k) {
    uint64_t c = 0;
    for (int i = 0; i < 4; ++i) {
      const uint64_t bit = static_cast<uint64_t>((4 * k + i) * kBits);
      c |= bit << (8 * i) | (bit + 32) << (8 * (i + 4));
    }
    return static_cast<long long>(c);
  }
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
  for (int w = 0; w < 2 * kBits; ++w) {
    prefetch_column_step<NG, A::kColumn, 2 * kBits>(cols, w);
    __m512i v[NG];
#pragma GCC unroll 4
    for (int g = 0; g < NG; ++g) v[g] = load(cols[g] + A::kCodes + 64 * w);
#pragma GCC unroll 4
    for (int k = 0; k < A::kLanesPerWord; ++k) {
      const int l = w * A::kLanesPerWord + k;  // 4-element lane of the weight group
      const int64_t lane = 16 * b + l;
      const int8_t* digits = x.digits + (lane / 8) * D * 32 + 4 * (lane % 8);
      if (l % kLanesPerScale == 0)
#pragma GCC unroll 4
        for (int g = 0; g < NG; ++g)
#pragma GCC unroll 3
          for (int p = 0; p < D; ++p) a[g][p] = fresh_zero();
#pragma GCC unroll 4
      for (int g = 0; g < NG; ++g) {
        __m512i code = v[g];
        if constexpr (kBits < 8)
          code = _mm512_and_si512(
              _mm512_multishift_epi64_epi8(_mm512_set1_epi64(A::lane_control(k)), v[g]),
              _mm512_set1_epi8((1 << kBits) - 1));
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
  }
  const __m512 sum_x = _mm512_set1_ps(x.sxb[b]);
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g)
    acc[g] = _mm512_fmadd_ps(load_f16x16(cols[g] + A::kScale), f[g],
                             _mm512_fmadd_ps(load_f16x16(cols[g] + A::kBias), sum_x, acc[g]));
}

}  // namespace
}  // namespace insitu::kernels::avx512

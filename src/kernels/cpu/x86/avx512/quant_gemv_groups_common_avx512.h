// Pieces shared by the row-group decode kernels (quant_gemv_groups_avx512.cpp and the block
// kernels of quant_gemv_groups_k23_avx512.h and quant_gemv_groups_k45_avx512.h): the prepared
// activation layout, the column sweep with its prefetcher, the end of a block with minimums and
// the kernel table's types. The scheme is described at the top of quant_gemv_groups_avx512.cpp.
// Include only from that translation unit.
#pragma once

#include <cstring>

#include "kernels/cpu/x86/avx512/quant_gemv_common_avx512.h"
#include "kernels/cpu/x86/avx512/simd512.h"
#include "quant/layout/q3k_group_codes.h"
#include "quant/registry.h"

namespace insitu::kernels::avx512 {
namespace {

constexpr int kMaxDigits = 3;
constexpr float kRoundedMax = 127.f;  // one signed digit
// Three digits reach 127 * 65793 = 8355711; the margin keeps v / s (which can round up by one)
// from carrying into a top digit of 128.
constexpr float kExactMax = 8355000.f;
constexpr int kSubBlocks = 16;  // 16-element sub-blocks per 256-element block

// In-place factor of a code in sub-block jb = 8n + 2k + h of its block (codes are taken from
// their bit position, not shifted down): q2_K plane k at bits 2k; q3_K plane 4n + k where its
// code words put it (q3k_group_codes::kInPlaceShift).
constexpr int plane_shift(QuantType t, int jb) {
  const int n = jb / 8, k = (jb % 8) / 2;
  return t == QuantType::kQ3K ? q3k_group_codes::kInPlaceShift[4 * n + k] : 2 * k;
}

// log2 of what sxa divides sx by for 16-element sub-block jb of a block: the in-place factor
// of its codes and 256^(byte of its scale in the scale word). q4_K's scales are per 32 elements
// (sub-block jb / 2, byte (jb / 2) % 4 of its word) and its high nibbles stay in place (16
// times the code).
constexpr int sxa_shift(QuantType t, int jb) {
  if (t == QuantType::kQ4K) return 4 * (jb / 2 % 2) + 8 * (jb / 2 % 4);
  if (t == QuantType::kQ5K) return 8 * (jb / 2 % 4);  // codes built in bits 0..4
  return plane_shift(t, jb) + 8 * (jb % 4);
}

// One prepared activation row, for one weight type (the kernels' per-sub-block factors are
// folded in here, once per call, instead of per row group):
//   digits  [cols / 32][kMaxDigits][32] int8: group G's digit p at (G * D + p) * 32;
//   sxa     [cols / 16] f32: sx / 2^sxa_shift, e.g. sx / (2^plane_shift * 256^(jb % 4)) for
//           q2_K. A sub-block's weight scale is read as (scale word & mask << 8 (jb % 4)), i.e.
//           256^(jb % 4) times the scale: one AND instead of a shift and an AND;
//           q4_0, q5_K (OperandRounding::kActivationLane8): [cols / 4], one per 4-element lane;
//   sxb     [cols / 16] f32 (q3_K): 32 sx / 2^plane_shift, so (scale - 32) * sx / 2^shift is
//           one fmsub of the masked scale;
//   init    [cols / 16][kMaxDigits] int32 (q3_K): -4 * 2^plane_shift * (sum of digit p over the
//           sub-block), the start of each digit's dot: it applies q3_K's code offset -4. q4_0:
//           [cols / 4][kMaxDigits], -8 * 2^shift * (the lane's digit sum);
//   sdig    [cols / 256][kMaxDigits][16] int8 (q2_K, q4_K): the block's sub-block sums of x~,
//           S_j = sx_j * sum xq (q2_K: 16 of 16 elements; q4_K: 8 of 32, then zeros), as 3
//           balanced base-256 digits of S_j / ss (f32-grade), so that the minimums
//           sum_j m_j S_j of 16 rows take a few vpdpbusd per digit per block instead of a float
//           convert and FMA per sub-block and row;
//   sscale  [cols / 256] f32 (q2_K, q4_K): ss / 16 for q2_K (its minimums are read as 16 m_j),
//           ss for q4_K.
struct GroupPrep {
  int64_t groups, sxa_off, sxb_off, init_off, sdig_off, sscale_off, stride;
  explicit GroupPrep(int64_t cols)
      : groups(cols / 32),
        sxa_off(round_up(groups * kMaxDigits * 32, 64)),
        sxb_off(sxa_off + round_up(groups * 8 * 4, 64)),
        init_off(sxb_off + round_up(groups * 2 * 4, 64)),
        sdig_off(init_off + round_up(groups * 8 * kMaxDigits * 4, 64)),
        sscale_off(sdig_off + round_up(cols / 256 * kMaxDigits * kSubBlocks, 64)),
        stride(sscale_off + round_up(cols / 256 * 4, 64)) {}
};

struct PrepView {
  const int8_t* digits;
  const float* sxa;     // per 16 elements
  const float* sxb;     // per 16 elements
  const int32_t* init;  // per 16 elements and digit
  const int8_t* sdig;   // per block: [kMaxDigits][16]
  const float* sscale;  // per block
  PrepView(const uint8_t* row, const GroupPrep& L)
      : digits(reinterpret_cast<const int8_t*>(row)),
        sxa(reinterpret_cast<const float*>(row + L.sxa_off)),
        sxb(reinterpret_cast<const float*>(row + L.sxb_off)),
        init(reinterpret_cast<const int32_t*>(row + L.init_off)),
        sdig(reinterpret_cast<const int8_t*>(row + L.sdig_off)),
        sscale(reinterpret_cast<const float*>(row + L.sscale_off)) {}
};

// v (|v| <= kExactMax for 3 digits) as D balanced signed base-256 digits, most significant
// first: digit p of lane l to out[p * stride + l]; each step divides exactly by 256. With
// digit_sums, digit p's sum over the 16 lanes goes to digit_sums[p].
template <int D>
inline void store_digits(__m512i v, int8_t* out, int64_t stride, int32_t* digit_sums = nullptr) {
  __m512i rest = v;
  for (int p = D - 1; p >= 0; --p) {
    const __m512i d = p == 0 ? rest : low_digit(rest);
    rest = _mm512_srai_epi32(_mm512_sub_epi32(rest, d), 8);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + p * stride), _mm512_cvtepi32_epi8(d));
    if (digit_sums) digit_sums[p] = _mm512_reduce_add_epi32(d);
  }
}

inline __m512i bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

inline __m512i load(const uint8_t* p) {
  return _mm512_loadu_si512(p);
}
inline __m512 load_f16x16(const uint8_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Digit accumulators of one sub-block -> f32 lanes.
template <int D>
inline __m512 combine(const __m512i (&a)[D]) {
  static_assert(D == 1 || D == 3, "rounded mode: one digit; exact mode: three");
  if constexpr (D == 1) {
    return _mm512_cvtepi32_ps(a[0]);
  } else {
    const __m512 lo =
        _mm512_fmadd_ps(_mm512_cvtepi32_ps(a[1]), _mm512_set1_ps(256.f), _mm512_cvtepi32_ps(a[2]));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(a[0]), _mm512_set1_ps(65536.f), lo);
  }
}

inline __m512i gf2(__m512i v, uint64_t matrix) {
  return _mm512_gf2p8affine_epi64_epi8(v, _mm512_set1_epi64(static_cast<long long>(matrix)), 0);
}

// Block columns a prefetch runs ahead: at least 2 KB per stream (q4_0's 288-byte columns: eight;
// q2_K, q3_K: two), so that the requests cover the DRAM latency at the stream's share of the
// bandwidth. tg64 q4_0, alternated medians: one column ahead 29.6, 1 KB 34.1 (+15%); 1 KB 30.2
// vs 2 KB 31.8; 2 KB 34.5 vs 4 KB 33.7 t/s.
constexpr size_t prefetch_columns_ahead(size_t column) {
  return (kPrefetchAheadBytes + column - 1) / column;
}

// Step `step` of kSteps of a block column's computation: prefetches its share of the lines of
// the column that far ahead (past a group's last column: the next group's first, which follows
// it in memory and which the caller's next sweep computes). Spread evenly over the whole
// column's computation, so that the requests never wait for a free fill buffer (a burst of the
// whole column did: perf put ~19% of the q2_K kernel's samples on its prefetch loop).
template <int NG, size_t kColumn, int kSteps>
__attribute__((always_inline)) inline void prefetch_column_step(const uint8_t* const (&cols)[NG],
                                                                int step) {
  constexpr int kLines = static_cast<int>((kColumn + 63) / 64);
  constexpr size_t kAhead = prefetch_columns_ahead(kColumn) * kColumn;
  // step is a constant once the caller's loops are unrolled
#pragma GCC unroll 4
  for (int l = step * kLines / kSteps; l < (step + 1) * kLines / kSteps; ++l)
#pragma GCC unroll 4
    for (int g = 0; g < NG; ++g)
      _mm_prefetch(reinterpret_cast<const char*>(cols[g] + kAhead + 64 * l), _MM_HINT_T0);
}

// NG groups (`stride` bytes apart) dotted with one activation row: 16 NG outputs, group g's at
// y + g * y_stride. Block(cols, b, x, acc) adds block column b (kColumn bytes per group) of the
// groups at cols. Software prefetch: the first column's lines in one burst, every later column
// spread over the computation of the one before it (prefetch_column_step), so that a
// column's 20-30 misses per group overlap instead of arriving load by load. Measured per matrix
// against the lm_head, end to end (q2k mix, 5 alternated runs, either order): q3k 2048x8192 and
// q2k 8192x2048 0.67-0.74 spread against 0.61-0.64 with each column's burst just before it is
// computed (the choice before; earlier still, 0.56-0.57 prefetching the caller's next groups and
// 0.54 with no software prefetch). Two or three columns ahead: no better than one. Reading each
// group as two or four streams (columns of two halves alternating): 0.53-0.60 (worse).
template <int NG, size_t kColumn,
          void (*Block)(const uint8_t* const (&)[NG], int64_t, const PrepView&, __m512 (&)[NG])>
void group_sweep(const uint8_t* grp, size_t stride, int64_t nb, const PrepView& x, float* y,
                 int64_t y_stride) {
  __m512 acc[NG];
  for (int g = 0; g < NG; ++g) acc[g] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* cols[NG];
    for (int g = 0; g < NG; ++g) cols[g] = grp + g * stride + b * kColumn;
    if (b == 0)  // later columns were prefetched while the ones before them were computed
      for (int g = 0; g < NG; ++g)
        for (size_t l = 0; l < prefetch_columns_ahead(kColumn) * kColumn; l += 64)
          _mm_prefetch(reinterpret_cast<const char*>(cols[g] + l), _MM_HINT_T0);
    Block(cols, b, x, acc);
  }
  for (int g = 0; g < NG; ++g) _mm512_storeu_ps(y + g * y_stride, acc[g]);
}

// The end of a block with minimums (q2_K, q4_K) for NG groups:
// acc += d * scaled - dmin * sum_j m_j S_j, the sum in integers: min_word(g, q) (q < NQ) gives
// group g's minimums of sub-blocks 4q..4q + 3 as unsigned bytes, dotted with the block's
// sub-block sums of x~ as three int8 digits (PrepView::sdig; sscale scales them back).
template <int NG, int NQ, class MinWord>
__attribute__((always_inline)) inline void add_block_terms(
    const uint8_t* const (&cols)[NG], const PrepView& x, int64_t b, size_t d_off, size_t dmin_off,
    MinWord&& min_word, const __m512 (&scaled)[NG], __m512 (&acc)[NG]) {
  __m512i am[NG][kMaxDigits];
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g)
#pragma GCC unroll 3
    for (int p = 0; p < kMaxDigits; ++p) am[g][p] = fresh_zero();
  const int8_t* sdig = x.sdig + b * kMaxDigits * kSubBlocks;
#pragma GCC unroll 4
  for (int q = 0; q < NQ; ++q) {
    __m512i mw[NG];
#pragma GCC unroll 4
    for (int g = 0; g < NG; ++g) mw[g] = min_word(g, q);
#pragma GCC unroll 3
    for (int p = 0; p < kMaxDigits; ++p) {
      const __m512i dp = bcast4(sdig + p * kSubBlocks + 4 * q);
#pragma GCC unroll 4
      for (int g = 0; g < NG; ++g) am[g][p] = _mm512_dpbusd_epi32(am[g][p], mw[g], dp);
    }
  }
  const __m512 ss = _mm512_set1_ps(x.sscale[b]);
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g)
    acc[g] = _mm512_fnmadd_ps(_mm512_mul_ps(load_f16x16(cols[g] + dmin_off), ss), combine<3>(am[g]),
                              _mm512_fmadd_ps(load_f16x16(cols[g] + d_off), scaled[g], acc[g]));
}

using GroupFn = void (*)(const uint8_t* grp, size_t stride, int64_t nb, const PrepView& x, float* y,
                         int64_t y_stride);

// Per type and mode: four and two groups at once (nullptr: none), and one (a thread's odd last
// group).
struct GroupKernels {
  GroupFn quad, pair, single;
};

}  // namespace
}  // namespace insitu::kernels::avx512

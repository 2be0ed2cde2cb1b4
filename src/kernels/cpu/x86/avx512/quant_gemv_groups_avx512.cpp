// AVX-512 VNNI decode GEMV for weights in the row-group layout (quant/layout/row_groups.h):
// 16 output rows at once, one row per 32-bit lane. Used for q2_K..q5_K and q4_0, whose
// row-format kernels are compute-bound at decode (docs/performance.md, "Session 6 update" and
// "Session 9 update").
//
// Why: in the row format a register holds 64 weights of one row, so every 64 weights and row
// pay a float tail (convert, scale, FMA) and the activation digits are reloaded per row. In the
// row-group layout one 64-byte load holds the same 4 code bytes of 16 rows; a vpdpbusd with the
// 4 matching activation digits broadcast from memory adds 16 rows' 4-element dots at once, and
// the float tail serves 16 rows. Two groups are processed side by side, sharing every digit
// broadcast: that halves the broadcasts, and two weight streams keep the hardware prefetchers
// busier than one (a single sequential stream per core streamed ~30% slower from DRAM here).
//
// Activations are prepared once per call, per aligned 16-element group j (one weight
// sub-block): sx[j] = max|x| / T, xq = nearbyint(x / sx[j]) split into D balanced signed
// base-256 digits (most significant first), and the per-type factors of the kernels' float
// tails (GroupPrep): the tail per sub-block and 16 rows is one AND, two converts and two FMAs;
// q2_K's minimums go through vpdpbusd with the sub-block sums of x~ as digits, and q3_K's code
// offset through the dots' starting values.
//  * rounded mode (OperandRounding::kActivationGroup16Int8): D = 1, T = 127: int8 per
//    16-element group, as fine as the row-format kernels' grouped mode and 16x finer than
//    ggml's q8_K. A second digit (D = 2, tried in session 5) doubled the vpdpbusd count and
//    made the kernels compute-bound: q2_K matrices streamed ~17% slower end to end;
//  * exact mode: D = 3, T = 8355000 (|x - x~| <= 6e-8 max|group|: f32-grade).
// Per 16-element sub-block and digit p, a[p] = sum code * digit_p in int32 (exact); D = 3
// combines the digits in f32. Codes are taken in place from their bit pair (4^k times their
// value) and 4^-k goes into the scale, saving a shift per 64 bytes.
// Call only when active_isa() >= kAvx512.
#include <cstring>
#include <utility>

#include "kernels/cpu/x86/avx512/quant_avx512_kernels.h"
#include "kernels/cpu/x86/avx512/quant_gemv_common_avx512.h"
#include "kernels/cpu/x86/avx512/simd512.h"
#include "quant/layout/row_groups.h"

namespace insitu::kernels::avx512 {
namespace {

constexpr int kMaxDigits = 3;
constexpr float kRoundedMax = 127.f;  // one signed digit
// Three digits reach 127 * 65793 = 8355711; the margin keeps v / s (which can round up by one)
// from carrying into a top digit of 128.
constexpr float kExactMax = 8355000.f;
constexpr int kSubBlocks = 16;  // 16-element sub-blocks per 256-element block

// In-place factor of a code in sub-block jb of its block (codes are taken from their bit
// position, not shifted down): q2_K plane k = (jb % 8) / 2 at bits 2k; q3_K planes 0..2 at
// bits 2k + (0, 1) with the high bit above them, plane 3 moved to bits 4..6.
constexpr int plane_shift(QuantType t, int jb) {
  const int k = (jb % 8) / 2;
  return t == QuantType::kQ3K && k == 3 ? 4 : 2 * k;
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

template <int D>
void prepare_row(QuantType type, const float* x, int64_t cols, uint8_t* out) {
  const GroupPrep L(cols);
  auto* digits = reinterpret_cast<int8_t*>(out);
  auto* sxa = reinterpret_cast<float*>(out + L.sxa_off);
  auto* sxb = reinterpret_cast<float*>(out + L.sxb_off);
  auto* init = reinterpret_cast<int32_t*>(out + L.init_off);
  auto* sdig = reinterpret_cast<int8_t*>(out + L.sdig_off);
  auto* sscale = reinterpret_cast<float*>(out + L.sscale_off);
  const float inv_max = 1.f / (D == 1 ? kRoundedMax : kExactMax);
  if (type == QuantType::kQ4_0) {
    // 32-element blocks (cols need not be a multiple of 256), one scale per 4-element lane as
    // the row-format kernels (OperandRounding::kActivationLane8): 16-element groups measured up
    // to 1.7x the rounding error those are held to (kRoundedCond) with outlier activations.
    const __m512 inv = _mm512_set1_ps(inv_max);
    for (int64_t j = 0; j < cols / 16; ++j) {
      const __m512 v = _mm512_loadu_ps(x + 16 * j);
      __m512 a = _mm512_abs_ps(v);  // max |x| over each lane, broadcast within it
      a = _mm512_max_ps(a, _mm512_permute_ps(a, 0xB1));
      a = _mm512_max_ps(a, _mm512_permute_ps(a, 0x4E));
      const __m512 sv = _mm512_mul_ps(a, inv);
      const __mmask16 nz = _mm512_cmp_ps_mask(sv, _mm512_setzero_ps(), _CMP_GT_OQ);
      const int shift = 4 * static_cast<int>(j % 2);  // high nibbles are read in place
      _mm_storeu_ps(sxa + 4 * j,
                    _mm_mul_ps(_mm512_castps512_ps128(_mm512_maskz_compress_ps(0x1111, sv)),
                               _mm_set1_ps(1.f / static_cast<float>(1 << shift))));
      __m512i rest = _mm512_cvtps_epi32(_mm512_maskz_div_ps(nz, v, sv));
      int8_t* dj = digits + (j / 2) * D * 32 + 16 * (j % 2);
      for (int p = D - 1; p >= 0; --p) {  // as store_digits, with per-lane digit sums
        const __m512i d = p == 0 ? rest : low_digit(rest);
        rest = _mm512_srai_epi32(_mm512_sub_epi32(rest, d), 8);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dj + 32 * p), _mm512_cvtepi32_epi8(d));
        __m512i ls = _mm512_add_epi32(d, _mm512_shuffle_epi32(d, _MM_PERM_CDAB));
        ls = _mm512_add_epi32(ls, _mm512_shuffle_epi32(ls, _MM_PERM_BADC));
        alignas(16) int32_t lane[4];
        _mm_store_si128(reinterpret_cast<__m128i*>(lane),
                        _mm512_castsi512_si128(_mm512_maskz_compress_epi32(0x1111, ls)));
        for (int l = 0; l < 4; ++l) init[(4 * j + l) * kMaxDigits + p] = -(8 << shift) * lane[l];
      }
    }
    return;
  }
  for (int64_t b = 0; b < cols / 256; ++b) {
    alignas(64) float sums[kSubBlocks];
    for (int jb = 0; jb < kSubBlocks; ++jb) {
      const int64_t j = kSubBlocks * b + jb;
      const __m512 v = _mm512_loadu_ps(x + 16 * j);
      int8_t* dj = digits + (j / 2) * D * 32 + 16 * (j % 2);
      if (type == QuantType::kQ5K) {  // one scale per 4-element lane (kActivationLane8)
        __m512 a = _mm512_abs_ps(v);  // max |x| over each lane, broadcast within it
        a = _mm512_max_ps(a, _mm512_permute_ps(a, 0xB1));
        a = _mm512_max_ps(a, _mm512_permute_ps(a, 0x4E));
        const __m512 sv = _mm512_mul_ps(a, _mm512_set1_ps(inv_max));
        const __mmask16 nz = _mm512_cmp_ps_mask(sv, _mm512_setzero_ps(), _CMP_GT_OQ);
        _mm_storeu_ps(sxa + 4 * j,
                      _mm_mul_ps(_mm512_castps512_ps128(_mm512_maskz_compress_ps(0x1111, sv)),
                                 _mm_set1_ps(1.f / static_cast<float>(1 << sxa_shift(type, jb)))));
        const __m512i q = _mm512_cvtps_epi32(_mm512_maskz_div_ps(nz, v, sv));
        store_digits<D>(q, dj, 32);
        sums[jb] = _mm512_reduce_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(q), sv));
        continue;
      }
      const float s = _mm512_reduce_max_ps(_mm512_abs_ps(v)) * inv_max;
      const int shift = plane_shift(type, jb);
      sxa[j] = s / static_cast<float>(1 << sxa_shift(type, jb));
      const __m512i q =
          _mm512_cvtps_epi32(_mm512_maskz_div_ps(s > 0 ? 0xFFFF : 0, v, _mm512_set1_ps(s)));
      if (type == QuantType::kQ3K) {
        sxb[j] = 32.f * s / static_cast<float>(1 << shift);
        int32_t dsum[D];
        store_digits<D>(q, dj, 32, dsum);
        for (int p = 0; p < D; ++p) init[j * kMaxDigits + p] = -(4 << shift) * dsum[p];
      } else {
        store_digits<D>(q, dj, 32);
        sums[jb] = static_cast<float>(_mm512_reduce_add_epi32(q)) * s;
      }
    }
    if (type == QuantType::kQ3K) continue;                     // no minimums
    if (type == QuantType::kQ4K || type == QuantType::kQ5K) {  // 32-element sub-blocks:
      // pair sums in lanes 0..7
      for (int jb = 0; jb < kSubBlocks / 2; ++jb) sums[jb] = sums[2 * jb] + sums[2 * jb + 1];
      for (int jb = kSubBlocks / 2; jb < kSubBlocks; ++jb) sums[jb] = 0.f;
    }
    const __m512 sv = _mm512_load_ps(sums);
    const float ss = _mm512_reduce_max_ps(_mm512_abs_ps(sv)) / kExactMax;
    sscale[b] = type == QuantType::kQ2K ? ss / 16.f : ss;
    const __m512i sq =
        _mm512_cvtps_epi32(_mm512_maskz_div_ps(ss > 0 ? 0xFFFF : 0, sv, _mm512_set1_ps(ss)));
    store_digits<kMaxDigits>(sq, sdig + b * kMaxDigits * kSubBlocks, kSubBlocks);
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

// Planes per pass of the q2_K / q3_K block kernels: all four for one or two groups; fewer for
// four groups, whose accumulators and words would not fit in registers otherwise (each pass
// reloads the words from L1; q3_K keeps two words per group live, so one plane per pass).
// Sub-blocks are summed in the same order (n, h, k) either way, so a row's result does not
// depend on how many groups it ran with.
constexpr int planes_per_pass(QuantType t, int ng) {
  return ng <= 2 ? 4 : t == QuantType::kQ3K ? 1 : 2;
}

// Block columns a prefetch runs ahead: at least 2 KB per stream (q4_0's 288-byte columns: eight;
// q2_K, q3_K: two), so that the requests cover the DRAM latency at the stream's share of the
// bandwidth. tg64 q4_0, alternated medians: one column ahead 29.6, 1 KB 34.1 (+15%); 1 KB 30.2
// vs 2 KB 31.8; 2 KB 34.5 vs 4 KB 33.7 t/s.
constexpr size_t prefetch_columns_ahead(size_t column) {
  return (2048 + column - 1) / column;
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
  constexpr int NP = planes_per_pass(QuantType::kQ2K, NG);
#pragma GCC unroll 2
  for (int n = 0; n < 2; ++n)
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h)
#pragma GCC unroll 2
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

// ---- q3_K: fields hmask (8 words), qs (16 words), scales (3 words), d (f16). ----
// Element 128n + 32k + l: low bits (qs byte 32n + l >> 2k) & 3, high bit (hmask byte l >> 4n + k)
// & 1, value d * (scale_j - 32) * (low + 4 high - 4), j = 8n + 2k + l / 16 (ggml's order); so
// qs word 8n + w and hmask word w hold the same 4 elements of each plane k. The low bits stay in
// place and the high bit is moved next to them (one GF(2) affine op), giving code * 4^k in one
// byte: one ternary-logic op per plane instead of two moves and an OR. Plane 3 has no room above
// its bits, so both of its fields are moved to bits 4..6 (code * 16). The -4 is applied through
// the start of each sub-block's dot (PrepView::init).
constexpr size_t kQ3KColumn = 16 * 110;
constexpr size_t kQ3KHmask = 0, kQ3KQs = 512, kQ3KScales = 1536, kQ3KD = 1728;

inline __m512i gf2(__m512i v, uint64_t matrix) {
  return _mm512_gf2p8affine_epi64_epi8(v, _mm512_set1_epi64(static_cast<long long>(matrix)), 0);
}

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
  constexpr int NP = planes_per_pass(QuantType::kQ3K, NG);
  const int32_t* init = x.init + kSubBlocks * b * kMaxDigits;
#pragma GCC unroll 2
  for (int n = 0; n < 2; ++n)
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h)
#pragma GCC unroll 2
      for (int k0 = 0; k0 < 4; k0 += NP) {
        // Each digit's dot starts at -4 * 2^shift * (digit sum): q3_K's code offset.
        PassSums<NG, NP, D> sums(init, n, h, k0);
        auto& a = sums.a;
#pragma GCC unroll 4
        for (int w = 4 * h; w < 4 * h + 4; ++w) {
          prefetch_column_step<NG, kQ3KColumn, 64 / NP>(
              cols, ((2 * n + h) * (4 / NP) + k0 / NP) * 4 + w - 4 * h);
          __m512i v[NG], hm[NG];
#pragma GCC unroll 4
          for (int g = 0; g < NG; ++g) {
            // volatile: GCC would keep every pass's words live (and spill them)
            v[g] = load_fresh(cols[g] + kQ3KQs + (8 * n + w) * 64);
            hm[g] = load_fresh(cols[g] + kQ3KHmask + w * 64);
          }
#pragma GCC unroll 4
          for (int k = k0; k < k0 + NP; ++k) {
            const int8_t* digits = x.digits + (8 * b + 4 * n + k) * D * 32 + 4 * w;
            __m512i code[NG];
#pragma GCC unroll 4
            for (int g = 0; g < NG; ++g) {
              const __m512i high =
                  gf2(hm[g], gf2_move(4 * n + k, 1, plane_shift(QuantType::kQ3K, 2 * k) + 2));
              // high | (qs & 3 << 2k); high first, as the destination: it dies here, qs does
              // not (a ternary-logic op overwrites its first operand, so qs first costs a copy).
              if (k < 3)
                code[g] = _mm512_ternarylogic_epi32(
                    high, v[g], _mm512_set1_epi8(static_cast<char>(3 << (2 * k))), 0xF8);
              else
                code[g] = _mm512_or_si512(gf2(v[g], gf2_move(6, 2, 4)), high);
            }
#pragma GCC unroll 3
            for (int p = 0; p < D; ++p) {
              const __m512i dp = bcast4(digits + 32 * p);
#pragma GCC unroll 4
              for (int g = 0; g < NG; ++g)
                a[g][k - k0][p] = _mm512_dpbusd_epi32(a[g][k - k0][p], code[g], dp);
            }
          }
        }
#pragma GCC unroll 4
        for (int k = k0; k < k0 + NP; ++k) {
          const int j = 8 * n + 2 * k + h;
          const __m512 sxa = _mm512_set1_ps(x.sxa[kSubBlocks * b + j]);
          const __m512 sxb = _mm512_set1_ps(x.sxb[kSubBlocks * b + j]);
          const __m512i mask = _mm512_set1_epi32(0x3F << (8 * (j % 4)));
#pragma GCC unroll 4
          for (int g = 0; g < NG; ++g) {
            // Sub-block j's scale: scale word 2n + k / 2 (bytes 4q..4q + 3 are sub-blocks
            // 4q..4q + 3), made from the three scale fields (L1) where it is used.
            const uint8_t* sp = cols[g] + kQ3KScales;
            const __m512i sw = q3k_scale_word(2 * n + k / 2, load_fresh(sp), load_fresh(sp + 64),
                                              load_fresh(sp + 128));
            // (scale_j + 32) * 256^(j % 4), exact in f32; times sxa minus sxb: scale_j * sx /
            // 2^shift.
            const __m512 sc = _mm512_cvtepi32_ps(_mm512_and_si512(sw, mask));
            scaled[g] =
                _mm512_fmadd_ps(combine<D>(a[g][k - k0]), _mm512_fmsub_ps(sc, sxa, sxb), scaled[g]);
          }
        }
      }
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g)
    acc[g] = _mm512_fmadd_ps(load_f16x16(cols[g] + kQ3KD), scaled[g], acc[g]);
}

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

template <int D, int NG>
__attribute__((always_inline)) inline void q4_0_block(const uint8_t* const (&cols)[NG], int64_t b,
                                                      const PrepView& x, __m512 (&acc)[NG]) {
  __m512 f[NG];
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g) f[g] = _mm512_setzero_ps();
#pragma GCC unroll 4
  for (int w = 0; w < 4; ++w) {
    prefetch_column_step<NG, kQ40Column, 4>(cols, w);
    __m512i v[NG];
#pragma GCC unroll 4
    for (int g = 0; g < NG; ++g) v[g] = load(cols[g] + kQ40Qs + 64 * w);
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const int64_t lane = 8 * b + 4 * h + w;  // elements 16h + 4w..16h + 4w + 3
      const int8_t* digits = x.digits + b * D * 32 + 16 * h + 4 * w;
      __m512i a[NG][D];
#pragma GCC unroll 4
      for (int g = 0; g < NG; ++g) {
        const __m512i code =
            _mm512_and_si512(v[g], _mm512_set1_epi8(static_cast<char>(h ? 0xF0 : 0x0F)));
#pragma GCC unroll 3
        for (int p = 0; p < D; ++p)
          a[g][p] = _mm512_dpbusd_epi32(broadcast_fresh(&x.init[lane * kMaxDigits + p]), code,
                                        bcast4(digits + 32 * p));
      }
      const __m512 sx = _mm512_set1_ps(x.sxa[lane]);
#pragma GCC unroll 4
      for (int g = 0; g < NG; ++g) f[g] = _mm512_fmadd_ps(combine<D>(a[g]), sx, f[g]);
    }
  }
#pragma GCC unroll 4
  for (int g = 0; g < NG; ++g) acc[g] = _mm512_fmadd_ps(load_f16x16(cols[g] + kQ40D), f[g], acc[g]);
}

using GroupFn = void (*)(const uint8_t* grp, size_t stride, int64_t nb, const PrepView& x, float* y,
                         int64_t y_stride);

// Per type and mode: four and two groups at once (nullptr: none), and one (a thread's odd last
// group).
struct GroupKernels {
  GroupFn quad, pair, single;
};

GroupKernels group_kernels(QuantType type, bool rounded) {
  switch (type) {
    case QuantType::kQ2K:
      // Three digits in two groups would need 48 accumulators: exact mode runs one group.
      return rounded ? GroupKernels{group_sweep<4, kQ2KColumn, q2k_block<1, 4>>,
                                    group_sweep<2, kQ2KColumn, q2k_block<1, 2>>,
                                    group_sweep<1, kQ2KColumn, q2k_block<1, 1>>}
                     : GroupKernels{nullptr, nullptr, group_sweep<1, kQ2KColumn, q2k_block<3, 1>>};
    case QuantType::kQ3K:
      return rounded ? GroupKernels{group_sweep<4, kQ3KColumn, q3k_block<1, 4>>,
                                    group_sweep<2, kQ3KColumn, q3k_block<1, 2>>,
                                    group_sweep<1, kQ3KColumn, q3k_block<1, 1>>}
                     : GroupKernels{nullptr, nullptr, group_sweep<1, kQ3KColumn, q3k_block<3, 1>>};
    case QuantType::kQ4K:
      // Four groups: four DRAM streams per thread (bench/roofline: ~25 GB/s with two streams
      // per thread against ~34 with four).
      return rounded ? GroupKernels{group_sweep<4, kQ4KColumn, q4k_block<1, 4>>,
                                    group_sweep<2, kQ4KColumn, q4k_block<1, 2>>,
                                    group_sweep<1, kQ4KColumn, q4k_block<1, 1>>}
                     : GroupKernels{nullptr, nullptr, group_sweep<1, kQ4KColumn, q4k_block<3, 1>>};
    case QuantType::kQ4_0:
      return rounded ? GroupKernels{group_sweep<4, kQ40Column, q4_0_block<1, 4>>,
                                    group_sweep<2, kQ40Column, q4_0_block<1, 2>>,
                                    group_sweep<1, kQ40Column, q4_0_block<1, 1>>}
                     : GroupKernels{nullptr, nullptr, group_sweep<1, kQ40Column, q4_0_block<3, 1>>};
    case QuantType::kQ5K:
      return rounded ? GroupKernels{group_sweep<4, kQ5KColumn, q4k_block<1, 4, true>>,
                                    group_sweep<2, kQ5KColumn, q4k_block<1, 2, true>>,
                                    group_sweep<1, kQ5KColumn, q4k_block<1, 1, true>>}
                     : GroupKernels{nullptr, nullptr,
                                    group_sweep<1, kQ5KColumn, q4k_block<3, 1, true>>};
    default: return {nullptr, nullptr, nullptr};
  }
}

}  // namespace

bool quant_gemv_groups_supported(QuantType type, int64_t) {
  return group_kernels(type, true).single != nullptr;
}

OperandRounding quant_gemv_groups_fast_rounding(QuantType type) {
  return type == QuantType::kQ4_0 || type == QuantType::kQ5K
             ? OperandRounding::kActivationLane8
             : OperandRounding::kActivationGroup16Int8;
}

size_t quant_gemv_groups_prep_bytes(int64_t m, int64_t cols) {
  return static_cast<size_t>(m) * GroupPrep(cols).stride;
}

void quant_gemv_groups_prepare_x(QuantType type, const float* x, int64_t, int64_t cols, int64_t i0,
                                 int64_t i1, bool round_x, void* out) {
  const GroupPrep L(cols);
  for (int64_t i = i0; i < i1; ++i) {
    uint8_t* row = static_cast<uint8_t*>(out) + i * L.stride;
    if (round_x)
      prepare_row<1>(type, x + i * cols, cols, row);
    else
      prepare_row<3>(type, x + i * cols, cols, row);
  }
}

size_t quant_gemv_groups_scratch_bytes(QuantType, int64_t, int64_t) {
  return 0;
}

void quant_gemv_groups(const QuantProblem& p, int64_t r0, int64_t r1, void*) {
  const GroupPrep L(p.cols);
  const GroupKernels ks = group_kernels(p.type, p.round_x);
  const int64_t nb = p.cols / quant_info(p.type).block_size;
  const size_t group_bytes = kRowGroupRows * p.row_bytes;
  // Quads (pairs) take group i of each quarter (half) of the chunk: four (two) DRAM streams, as
  // the row-format kernels' stripes (for_each_row_stripe_block); then pairs and single groups
  // for what is left.
  const int64_t groups = (r1 - r0) / kRowGroupRows;
  const auto run = [&](GroupFn fn, int64_t g, size_t stride, int64_t y_stride) {
    const int64_t r = r0 + g * kRowGroupRows;
    const uint8_t* grp = p.w + static_cast<size_t>(r) * p.row_bytes;
    for (int64_t i = 0; i < p.m; ++i) {
      const PrepView x(static_cast<const uint8_t*>(p.xprep) + i * L.stride, L);
      fn(grp, stride, nb, x, p.y + i * p.rows + r, y_stride);
    }
  };
  int64_t done = 0;
  for (const auto& [fn, n] : {std::pair{ks.quad, 4}, std::pair{ks.pair, 2}}) {
    const int64_t q = fn ? (groups - done) / n : 0;
    for (int64_t g = 0; g < q; ++g) run(fn, done + g, q * group_bytes, q * kRowGroupRows);
    done += n * q;
  }
  for (int64_t g = done; g < groups; ++g) run(ks.single, g, 0, 0);
}

}  // namespace insitu::kernels::avx512

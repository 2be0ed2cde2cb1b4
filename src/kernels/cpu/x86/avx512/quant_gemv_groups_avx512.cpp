// AVX-512 VNNI decode GEMV for weights in the row-group layout (quant/layout/row_groups.h):
// 16 output rows at once, one row per 32-bit lane. Used for q2_K..q5_K, q4_0, q4_1, q5_0, q5_1,
// MXFP4 and the AFQ types, whose row-format kernels are compute-bound at decode
// (docs/performance.md, "Session 6 update" and "Session 9 update").
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
#include <utility>

#include "kernels/cpu/x86/avx512/quant_avx512_kernels.h"
#include "kernels/cpu/x86/avx512/quant_gemv_common_avx512.h"
#include "kernels/cpu/x86/avx512/quant_gemv_groups_afq_avx512.h"
#include "kernels/cpu/x86/avx512/quant_gemv_groups_common_avx512.h"
#include "kernels/cpu/x86/avx512/quant_gemv_groups_k23_avx512.h"
#include "kernels/cpu/x86/avx512/quant_gemv_groups_k45_avx512.h"
#include "kernels/cpu/x86/avx512/quant_gemv_groups_mxfp4_avx512.h"
#include "kernels/cpu/x86/avx512/simd512.h"
#include "quant/layout/row_groups.h"

namespace insitu::kernels::avx512 {
namespace {

// AFQ code width (0: not an AFQ type).
constexpr int afq_group_bits(QuantType t) {
  switch (t) {
    case QuantType::kAfq2: return 2;
    case QuantType::kAfq3: return 3;
    case QuantType::kAfq4: return 4;
    case QuantType::kAfq6: return 6;
    case QuantType::kAfq8: return 8;
    default: return 0;
  }
}

// AFQ (afq_block): rounded (D = 1), per 4-element lane l, sxa[l] = max|x| / 127
// (OperandRounding::kActivationLane8); exact (D = 3), per 16-element group j, sxa[j] = max|x| /
// kExactMax. Digits in element order; per 64-element weight group b, sxb[b] = the sum of x~
// over it.
template <int D>
void prepare_afq_row(const float* x, int64_t cols, uint8_t* out) {
  const GroupPrep L(cols);
  const PrepView view(out, L);
  auto* digits = reinterpret_cast<int8_t*>(out);
  auto* sxa = const_cast<float*>(view.sxa);
  auto* sxb = const_cast<float*>(view.sxb);
  for (int64_t b = 0; b < cols / 64; ++b) {
    float sum = 0.f;
    for (int jj = 0; jj < 4; ++jj) {
      const int64_t j = 4 * b + jj;
      const __m512 v = _mm512_loadu_ps(x + 16 * j);
      __m512 sv;
      __m512i q;
      if constexpr (D == 1) {
        const LaneRounded r = round_lanes(v, _mm512_set1_ps(1.f / kRoundedMax));
        sv = r.s;
        q = r.q;
        store_lane_scales(sxa + 4 * j, sv);
      } else {
        const float s = _mm512_reduce_max_ps(_mm512_abs_ps(v)) * (1.f / kExactMax);
        sxa[j] = s;
        sv = _mm512_set1_ps(s);
        q = _mm512_cvtps_epi32(_mm512_maskz_div_ps(s > 0 ? 0xFFFF : 0, v, sv));
      }
      sum += _mm512_reduce_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(q), sv));
      store_digits<D>(q, digits + (j / 2) * D * 32 + 16 * (j % 2), 32);
    }
    sxb[b] = sum;
  }
}

template <int D>
void prepare_row(QuantType type, const float* x, int64_t cols, uint8_t* out) {
  if (afq_group_bits(type) != 0) {
    prepare_afq_row<D>(x, cols, out);
    return;
  }
  const GroupPrep L(cols);
  auto* digits = reinterpret_cast<int8_t*>(out);
  auto* sxa = reinterpret_cast<float*>(out + L.sxa_off);
  auto* sxb = reinterpret_cast<float*>(out + L.sxb_off);
  auto* init = reinterpret_cast<int32_t*>(out + L.init_off);
  auto* sdig = reinterpret_cast<int8_t*>(out + L.sdig_off);
  auto* sscale = reinterpret_cast<float*>(out + L.sscale_off);
  const float inv_max = 1.f / (D == 1 ? kRoundedMax : kExactMax);
  if (type == QuantType::kQ4_0 || type == QuantType::kMxfp4 || type == QuantType::kQ5_0 ||
      type == QuantType::kQ5_1 || type == QuantType::kQ4_1) {
    // 32-element blocks (cols need not be a multiple of 256), one scale per 4-element lane as
    // the row-format kernels (OperandRounding::kActivationLane8): 16-element groups measured up
    // to 1.7x the rounding error those are held to (kRoundedCond) with outlier activations.
    // q4_0's high nibbles are read in place (16 times the code), the others' shifted down or
    // through a table. q4_1 and q5_1 have no zero point but a minimum: sxb[b] = the block's sum
    // of x~.
    const bool in_place = type == QuantType::kQ4_0;
    const bool block_sums = type == QuantType::kQ4_1 || type == QuantType::kQ5_1;
    const int zero = in_place                    ? 8
                     : type == QuantType::kMxfp4 ? 12
                     : type == QuantType::kQ5_0  ? 16
                                                 : 0;
    const __m512 inv = _mm512_set1_ps(inv_max);
    for (int64_t j = 0; j < cols / 16; ++j) {
      const auto [sv, q] = round_lanes(_mm512_loadu_ps(x + 16 * j), inv);
      if (block_sums) {
        const float part = _mm512_reduce_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(q), sv));
        sxb[j / 2] = j % 2 == 0 ? part : sxb[j / 2] + part;
      }
      const int shift = in_place ? 4 * static_cast<int>(j % 2) : 0;
      store_lane_scales(sxa + 4 * j, sv, 1.f / static_cast<float>(1 << shift));
      __m512i rest = q;
      int8_t* dj = digits + (j / 2) * D * 32 + 16 * (j % 2);
      for (int p = D - 1; p >= 0; --p) {  // as store_digits, with per-lane digit sums
        const __m512i d = p == 0 ? rest : low_digit(rest);
        rest = _mm512_srai_epi32(_mm512_sub_epi32(rest, d), 8);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dj + 32 * p), _mm512_cvtepi32_epi8(d));
        alignas(16) int32_t lane[4];
        _mm_store_si128(reinterpret_cast<__m128i*>(lane),
                        _mm512_castsi512_si128(_mm512_maskz_compress_epi32(0x1111, lane_sums(d))));
        for (int l = 0; l < 4; ++l) init[(4 * j + l) * kMaxDigits + p] = -(zero << shift) * lane[l];
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
        const auto [sv, q] = round_lanes(v, _mm512_set1_ps(inv_max));
        store_lane_scales(sxa + 4 * j, sv, 1.f / static_cast<float>(1 << sxa_shift(type, jb)));
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

// One type's kernels from its block kernel at each (digits, groups): rounded mode runs four
// groups at once (four DRAM streams per thread; bench/roofline: ~25 GB/s with two streams per
// thread against ~34 with four), then two, then one; exact mode (three digits) one group, as more
// would not fit the accumulators in registers.
template <size_t kColumn, auto kQuad, auto kPair, auto kSingle, auto kExact>
GroupKernels kernels_of(bool rounded) {
  return rounded ? GroupKernels{group_sweep<4, kColumn, kQuad>, group_sweep<2, kColumn, kPair>,
                                group_sweep<1, kColumn, kSingle>}
                 : GroupKernels{nullptr, nullptr, group_sweep<1, kColumn, kExact>};
}

// AFQ runs four groups in exact mode too: its 16-element exact scales leave 3 accumulators per
// group (the K-quants' blocks need more), and afq8, exact under the default precision, streamed
// ~30 GB/s from one group per thread.
template <int kBits>
GroupKernels afq_kernels(bool rounded) {
  constexpr size_t kColumn = AfqGroups<kBits>::kColumn;
  if (!rounded)
    return {group_sweep<4, kColumn, afq_block<kBits, 3, 4>>,
            group_sweep<2, kColumn, afq_block<kBits, 3, 2>>,
            group_sweep<1, kColumn, afq_block<kBits, 3, 1>>};
  return kernels_of<kColumn, afq_block<kBits, 1, 4>, afq_block<kBits, 1, 2>, afq_block<kBits, 1, 1>,
                    afq_block<kBits, 3, 1>>(true);
}

GroupKernels group_kernels(QuantType type, bool rounded) {
  switch (type) {
    case QuantType::kQ2K:
      return kernels_of<kQ2KColumn, q2k_block<1, 4>, q2k_block<1, 2>, q2k_block<1, 1>,
                        q2k_block<3, 1>>(rounded);
    case QuantType::kQ3K:
      return kernels_of<kQ3KColumn, q3k_block<1, 4>, q3k_block<1, 2>, q3k_block<1, 1>,
                        q3k_block<3, 1>>(rounded);
    case QuantType::kQ4K:
      return kernels_of<kQ4KColumn, q4k_block<1, 4>, q4k_block<1, 2>, q4k_block<1, 1>,
                        q4k_block<3, 1>>(rounded);
    case QuantType::kQ5K:
      return kernels_of<kQ5KColumn, q4k_block<1, 4, true>, q4k_block<1, 2, true>,
                        q4k_block<1, 1, true>, q4k_block<3, 1, true>>(rounded);
    case QuantType::kQ4_0:
      return kernels_of<kQ40Column, q4_0_block<1, 4>, q4_0_block<1, 2>, q4_0_block<1, 1>,
                        q4_0_block<3, 1>>(rounded);
    case QuantType::kQ4_1:
      return kernels_of<kQ41Column, legacy_nibble_block<1, 4, true, false>,
                        legacy_nibble_block<1, 2, true, false>,
                        legacy_nibble_block<1, 1, true, false>,
                        legacy_nibble_block<3, 1, true, false>>(rounded);
    case QuantType::kQ5_0:
      return kernels_of<kQ50Column, legacy_nibble_block<1, 4, false>,
                        legacy_nibble_block<1, 2, false>, legacy_nibble_block<1, 1, false>,
                        legacy_nibble_block<3, 1, false>>(rounded);
    case QuantType::kQ5_1:
      return kernels_of<kQ51Column, legacy_nibble_block<1, 4, true>,
                        legacy_nibble_block<1, 2, true>, legacy_nibble_block<1, 1, true>,
                        legacy_nibble_block<3, 1, true>>(rounded);
    case QuantType::kMxfp4:
      return kernels_of<kMxfp4Column, mxfp4_block<1, 4>, mxfp4_block<1, 2>, mxfp4_block<1, 1>,
                        mxfp4_block<3, 1>>(rounded);
    case QuantType::kAfq2: return afq_kernels<2>(rounded);
    case QuantType::kAfq3: return afq_kernels<3>(rounded);
    case QuantType::kAfq4: return afq_kernels<4>(rounded);
    case QuantType::kAfq6: return afq_kernels<6>(rounded);
    case QuantType::kAfq8: return afq_kernels<8>(rounded);
    default: return {nullptr, nullptr, nullptr};
  }
}

}  // namespace

bool quant_gemv_groups_supported(QuantType type, int64_t) {
  return group_kernels(type, true).single != nullptr;
}

OperandRounding quant_gemv_groups_fast_rounding(QuantType type) {
  return type == QuantType::kQ4_0 || type == QuantType::kQ5K || type == QuantType::kMxfp4 ||
                 type == QuantType::kQ5_0 || type == QuantType::kQ5_1 || type == QuantType::kQ4_1 ||
                 afq_group_bits(type) != 0
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

// AVX-512 VNNI GEMV for quantized weights (decode, m <= 4) and the AVX-512 kernel table.
//
// Rows are processed in blocks of R (4 for m <= 2): the block's rows are decoded
// (quant_decode_avx512.h) segment by segment (kSegCols columns at a time, so codes, scales and
// the matching activation digits stay in L1 even for the 8192-column down_proj) into u8 codes
// plus one (scale, offset) pair per 16 elements, then dotted with every activation row; each
// activation vector loaded from L1 serves all R rows. The integer part runs on vpdpbusd
// (u8 code x s8 activation digit, 64 MACs/instruction):
//  * activations are prepared once per call: each 4-element lane (one vpdpbusd accumulator)
//    gets its own scale sx = max|x| / T and the integer xq = round(x / sx), |xq| <= T, is split
//    into 3 balanced signed base-256 digits, xq = d0 * 65536 + d1 * 256 + d2;
//  * per 64 codes and weight row: the int32 accumulator starts at -zero * S0 (S_p: the lane's
//    digit sums; zero is the type's integer zero point), then a = dp(a, d0); a <<= 8;
//    a = dp(a, d1) and, when codes are at most 63 ("narrow": 4 * 63 * T < 2^31), a <<= 8;
//    a = dp(a, d2); a += -zero * (256 S1 + S2), all exactly in int32; wider (8-bit) codes
//    add -zero * S1 before the d1 dot and keep the d2 dot (started at -zero * S2) in a second
//    accumulator combined in f32. The shifts by 8 are byte shuffles (port 5, beside the
//    port-0 vpdpbusd). Then acc += cvt(a) * (weight scale * sx) in f32. The integers hold
//    sum (code - zero) * xq exactly, so the signed levels are never biased in floating point
//    and a zero weight row or a zero activation row gives exactly 0;
//  * offsets (per-block minimums / zero points) are applied once per 16 elements as
//    offset * sum(x~), where x~ = xq * sx is the activation the codes were multiplied by, so the
//    activation rounding error multiplies the true weights, never biased codes.
// With T = 8.29e6 (23 bits): |x - x~| <= 6e-8 max|lane|, i.e. the result is f32-grade.
// Rounded mode (QuantProblem::round_x, OperandRounding::kActivationLane8): T = 127, one digit,
// so a = dp(-zero * S0, code, d0) is the whole integer part: one vpdpbusd per 64 codes.
// Offsets still use sum(x~) of the same rounded x~, so the result is the exact product of the
// dequantized weights with x~.
// Measured errors per type: tests/kernels/quant_matmul_test.cpp.
// fp8 (values not affine in a code) converts to f32 in registers and uses an FMA dot (fp8_rows);
// rounded, to bf16 against bf16(x) with vdpbf16ps.
#include <cstdlib>
#include <cstring>

#include "kernels/cpu/x86/avx512/e4m3_avx512.h"
#include "kernels/cpu/x86/avx512/quant_avx512_kernels.h"
#include "kernels/cpu/x86/avx512/quant_decode_avx512.h"
#include "kernels/cpu/x86/avx512/quant_gemv_common_avx512.h"
#include "kernels/cpu/x86/avx512/quant_gemv_fused_avx512.h"
#include "kernels/cpu/x86/avx512/simd512.h"
#include "quant/fp8/fp8.h"

namespace insitu::kernels::avx512 {
namespace {

// The parts of one prepared activation row (PrepLayout), group sums zeroed.
struct PrepRow {
  int8_t* digits;
  float* sx;
  int32_t* zc;
  float* sums;
  PrepRow(uint8_t* out, const PrepLayout& L)
      : digits(reinterpret_cast<int8_t*>(out)),
        sx(reinterpret_cast<float*>(out + L.sx_off)),
        zc(reinterpret_cast<int32_t*>(out + L.zc_off)),
        sums(reinterpret_cast<float*>(out + L.sum_off)) {
    std::memset(sums, 0, L.groups * 4);
  }
};

// kRound (OperandRounding::kActivationLane8): one digit, xq = round(x / sx) with
// sx = max|lane| / 127, stored in digit slot 0 with its zero-point correction in slot 0.
template <bool kRound>
void prepare_row(const float* x, int64_t cols, int zero, uint8_t* out) {
  const PrepLayout L(cols);
  const auto [digits, sx, zc, sums] = PrepRow(out, L);
  const __m512 inv_max = _mm512_set1_ps(kRound ? 1.f / 127.f : 1.f / kXMax);
  const __m512i negz = _mm512_set1_epi32(-zero);
  for (int64_t c = 0; c < L.k64; c += 16) {
    const __m512 v = _mm512_maskz_loadu_ps(tail_mask16(cols - c > 0 ? cols - c : 0), x + c);
    const auto [s, q] = round_lanes(v, inv_max);
    const int64_t chunk = c / 64, sub = c % 64;
    store_lane_scales(sx + c / 4, s);
    sums[c / 16] = _mm512_reduce_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(q), s));
    if constexpr (kRound) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(digits + chunk * kParts * 64 + sub),
                       _mm512_cvtepi32_epi8(q));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(zc + chunk * 64 + sub / 4),
                       _mm512_castsi512_si128(_mm512_maskz_compress_epi32(
                           0x1111, _mm512_mullo_epi32(lane_sums(q), negz))));
      continue;
    }
    // Digits, least significant first; each step divides exactly by 256.
    __m512i d[kParts];
    __m512i rest = q;
    for (int p = kParts - 1; p >= 0; --p) {
      d[p] = p == 0 ? rest : low_digit(rest);
      rest = _mm512_srai_epi32(_mm512_sub_epi32(rest, d[p]), 8);
    }
    for (int p = 0; p < kParts; ++p)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(digits + (chunk * kParts + p) * 64 + sub),
                       _mm512_cvtepi32_epi8(d[p]));
    // Zero-point corrections (see dot_segment), one int32 per lane.
    const __m512i z1 = _mm512_mullo_epi32(lane_sums(d[1]), negz);
    const __m512i z2 = _mm512_mullo_epi32(lane_sums(d[2]), negz);
    const __m512i zv[4] = {_mm512_mullo_epi32(lane_sums(d[0]), negz), z1, z2,
                           _mm512_add_epi32(_mm512_slli_epi32(z1, 8), z2)};
    for (int v = 0; v < 4; ++v)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(zc + chunk * 64 + v * 16 + sub / 4),
                       _mm512_castsi512_si128(_mm512_maskz_compress_epi32(0x1111, zv[v])));
  }
}

// Grouped rounding (OperandRounding::kActivationGroup16Stride32, S = 32; cols a multiple of
// 256): the 16 elements {4Sb + Sg + 4l + i : g, i < 4} share one scale. Digit slot (chunk)
// 4u + g of unit u (256 columns) holds at byte p the element 256u + 4S(p / S) + p % S + Sg,
// the order of q2_K's code planes (qs[32h + l] >> 2g), so one lane of the four slots is one
// group.
// Every slot of the unit gets the group scales; the unit's zero-point correction,
// -zero * (sum of the group's 16 digits), sits in slot 4u. Group sums of x~ stay in natural
// 16-column order.
void prepare_row_grouped(const float* x, int64_t cols, int zero, uint8_t* out) {
  constexpr int stride = 32;
  const PrepLayout L(cols);
  const auto [digits, sx, zc, sums] = PrepRow(out, L);
  const __m512 inv_max = _mm512_set1_ps(1.f / 127.f);
  const __m512i negz = _mm512_set1_epi32(-zero);
  for (int64_t u = 0; u < cols / 256; ++u)
    for (int p = 0; p < 64; p += 16) {  // byte p of each slot: 16 elements of every plane
      const int64_t first = 4 * stride * (p / stride) + p % stride;  // element of slot 0
      const float* base = x + 256 * u + first;
      __m512 v[4];
      __m512 a = _mm512_setzero_ps();
      for (int g = 0; g < 4; ++g) {
        v[g] = _mm512_loadu_ps(base + stride * g);
        a = _mm512_max_ps(a, _mm512_abs_ps(v[g]));
      }
      a = _mm512_max_ps(a, _mm512_permute_ps(a, 0xB1));
      a = _mm512_max_ps(a, _mm512_permute_ps(a, 0x4E));
      const __m512 s = _mm512_mul_ps(a, inv_max);
      const __mmask16 nz = _mm512_cmp_ps_mask(s, _mm512_setzero_ps(), _CMP_GT_OQ);
      const __m128 s4 = _mm512_castps512_ps128(_mm512_maskz_compress_ps(0x1111, s));
      __m512i qsum = _mm512_setzero_si512();
      for (int g = 0; g < 4; ++g) {
        const __m512i q = _mm512_cvtps_epi32(_mm512_maskz_div_ps(nz, v[g], s));
        const int64_t slot = 4 * u + g;
        _mm_storeu_si128(reinterpret_cast<__m128i*>(digits + slot * kParts * 64 + p),
                         _mm512_cvtepi32_epi8(q));
        _mm_storeu_ps(sx + 16 * slot + p / 4, s4);
        sums[16 * u + (first + stride * g) / 16] =
            _mm512_reduce_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(q), s));
        qsum = _mm512_add_epi32(qsum, q);
      }
      _mm_storeu_si128(reinterpret_cast<__m128i*>(zc + 4 * u * 64 + p / 4),
                       _mm512_castsi512_si128(_mm512_maskz_compress_epi32(
                           0x1111, _mm512_mullo_epi32(lane_sums(qsum), negz))));
    }
}

// Dots R decoded rows (buffer rows of kRowBuf bytes) with M prepared activation rows over
// chunks [c0, c1) (global 64-column chunk indices; the buffer holds chunk c0 first), adding
// into acc[j][i].
template <int M, int R, bool kNarrow, bool kZero, bool kRound>
inline void dot_segment(const uint8_t* buf, const uint8_t* const* prep, const PrepLayout& L,
                        int64_t c0, int64_t c1, Prefetcher& pf, __m512 (&acc)[R][M]) {
  const __m512i rep4 = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  for (int64_t c = c0; c < c1; ++c) {
    const int64_t lc = c - c0;
    pf.step();
    __m512i cv[R];
    __m512 ws[R];
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) {
      const uint8_t* rb = buf + j * kRowBuf;
      cv[j] = _mm512_load_si512(rb + 64 * lc);
      ws[j] = _mm512_permutexvar_ps(
          rep4, _mm512_castps128_ps512(
                    _mm_load_ps(reinterpret_cast<const float*>(rb + kSegCols) + 4 * lc)));
    }
    dot_rows_chunk<M, R, kNarrow, kZero, kRound>(cv, ws, prep, L, c, acc);
  }
}

// Offsets of one segment: offset * sum(x~) per 16-group (global group g0 first).
template <int M, int R>
inline void offset_terms(const uint8_t* buf, const uint8_t* const* prep, const PrepLayout& L,
                         int64_t g0, int64_t ng, __m512 (&acc)[R][M]) {
  for (int64_t g = 0; g < ng; g += 16) {
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) {
      const auto* off = reinterpret_cast<const float*>(buf + j * kRowBuf + kSegCols) + kSegGroups;
#pragma GCC unroll 4
      for (int i = 0; i < M; ++i)
        acc[j][i] = _mm512_fmadd_ps(
            _mm512_load_ps(off + g),
            _mm512_load_ps(reinterpret_cast<const float*>(prep[i] + L.sum_off) + g0 + g),
            acc[j][i]);
    }
  }
}

// Rows r + j * rs (j < R): decode segment by segment, dot, write y.
template <int M, int R, bool kNarrow, bool kZero, bool kRound>
void gemv_rows(const QuantProblem& p, const QuantDecoder& dec, int64_t r, int64_t rs,
               int64_t next_row, int ahead, uint8_t* buf, const uint8_t* const* prep,
               const PrepLayout& L) {
  // Software prefetch of the next row block's segment while this one is computed (one block
  // ahead, rows next_row + j * rs): the hardware prefetcher alone does not keep these streams
  // deep enough to saturate DRAM.
  const uint8_t* next = p.w + static_cast<size_t>(next_row) * p.row_bytes;
  const size_t stride = static_cast<size_t>(rs) * p.row_bytes;
  Prefetcher pf;
  __m512 acc[R][M];
#pragma GCC unroll 4
  for (int j = 0; j < R; ++j)
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) acc[j][i] = _mm512_setzero_ps();
  for (int64_t s = 0; s < p.cols; s += kSegCols) {
    const int64_t s_end = s + kSegCols < p.cols ? s + kSegCols : p.cols;
    for (int j = 0; j < R; ++j) {
      uint8_t* rb = buf + j * kRowBuf;
      auto* sc = reinterpret_cast<float*>(rb + kSegCols);
      dec.codes(p.w + static_cast<size_t>(r) * p.row_bytes + j * stride, s / dec.block,
                (s_end - s) / dec.block, rb, sc, sc + kSegGroups);
    }
    // Chunks and groups past cols (up to K64 / G16) meet zero digits and sums, and the
    // buffer positions they read hold finite values (zeroed once per call, then only
    // ever decoded values).
    const int64_t c_end = (s + kSegCols < L.k64 ? s + kSegCols : L.k64) / 64;
    // Prefetch the next segment of these rows, or after a row's last one the next block's
    // segment s (its first, for rows of several): one segment ahead (1-2 KB per stream), not a
    // whole row, which for 8192-column rows kept ~30 KB of lines waiting in L1 (see
    // fused_rows in quant_gemv_fused_avx512.cpp).
    const bool last_segment = s_end == p.cols;
    const int64_t pf_col = last_segment ? 0 : s_end;
    const int64_t pf_end =
        last_segment ? std::min<int64_t>(kSegCols, p.cols) : std::min(s_end + kSegCols, p.cols);
    const size_t seg_bytes = static_cast<size_t>((pf_end - pf_col) / dec.block) * dec.block_bytes;
    const uint8_t* pf_rows = last_segment ? next : p.w + static_cast<size_t>(r) * p.row_bytes;
    pf.start(pf_rows + static_cast<size_t>(pf_col / dec.block) * dec.block_bytes, stride,
             last_segment ? ahead : R, seg_bytes, c_end - s / 64);
    dot_segment<M, R, kNarrow, kZero, kRound>(buf, prep, L, s / 64, c_end, pf, acc);
    if (dec.has_offset)
      offset_terms<M, R>(buf, prep, L, s / 16, round_up((c_end - s / 64) * 4, 16), acc);
  }
#pragma GCC unroll 4
  for (int j = 0; j < R; ++j)
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) p.y[i * p.rows + r + j * rs] = _mm512_reduce_add_ps(acc[j][i]);
}

template <int M, bool kNarrow, bool kZero, bool kRound>
void gemv_codes(const QuantProblem& p, const QuantDecoder& dec, int64_t r0, int64_t r1,
                uint8_t* buf) {
  constexpr int R = M <= 2 ? 4 : 2;  // row block: accumulators R * M <= 8, cv/ws 2R registers
  const PrepLayout L(p.cols);
  std::memset(buf, 0, kMaxRowBlock * kRowBuf);
  const uint8_t* prep[M];
  for (int i = 0; i < M; ++i) prep[i] = static_cast<const uint8_t*>(p.xprep) + i * L.stride;
  for_each_row_stripe_block<R>(
      r0, r1,
      [&](int64_t r, int64_t rs, int64_t next, int ahead) {
        gemv_rows<M, R, kNarrow, kZero, kRound>(p, dec, r, rs, next, ahead, buf, prep, L);
      },
      [&](int64_t r, int64_t rs, int64_t next, int ahead) {
        gemv_rows<M, 1, kNarrow, kZero, kRound>(p, dec, r, rs, next, ahead, buf, prep, L);
      });
}

// x for fp8_rows' fast conversion (e4m3x64_normal_to_f32_times256): in each 64-element chunk,
// out[16t + j] = x[4j + t]. cols is a multiple of the 128-element block; a PrepLayout row has
// more than 4 bytes per column (checked below).
// A prep row is kParts + 5 bytes per (64-rounded) column: digits, lane scales, corrections.
static_assert(kParts + 1 + 4 >= static_cast<int>(sizeof(float)));
inline void prepare_fp8_row(const float* x, int64_t cols, float* out) {
  for (int64_t c = 0; c < cols; c += 64)
    for (int t = 0; t < 4; ++t)
      for (int j = 0; j < 16; ++j) out[c + 16 * t + j] = x[c + 4 * j + t];
}

// x for fp8_rows in rounded mode (OperandRounding::kActivationBf16): bf16(x) (nearest even) in
// the order of e4m3x64_normal_to_bf16_times256 (64-element chunk c, half t: 32 words at
// out + (2c + t) * 32, word 8l + k = x[64c + 16l + 8t + k]).
static_assert(kParts + 1 + 4 >= 2);
inline void prepare_fp8_row_bf16(const float* x, int64_t cols, uint16_t* out) {
  for (int64_t c = 0; c < cols / 64; ++c)
    for (int t = 0; t < 2; ++t) {
      alignas(64) float perm[32];
      for (int l = 0; l < 4; ++l)
        for (int k = 0; k < 8; ++k) perm[8 * l + k] = x[64 * c + 16 * l + 8 * t + k];
      const __m512i words = reinterpret_cast<__m512i>(
          _mm512_cvtne2ps_pbh(_mm512_load_ps(perm + 16), _mm512_load_ps(perm)));
      _mm512_storeu_si512(out + (2 * c + t) * 32, words);
    }
}

// bf16(v) (nearest even) as f32.
inline __m512 round_to_bf16(__m512 v) {
  const __m256i h = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// fp8 rows (blocks of f32 d | e4m3 q[128]; values not affine in a small code): R rows at once
// from R stripes of the chunk (for_each_row_stripe_block: R DRAM streams), the block's d (times
// the conversion's power of two) applied once per block and row. A block whose 128 codes are all
// normal (~99% of them for Gaussian weights) is converted without shuffles, in an order that x,
// permuted once per call (prepare_fp8_row / prepare_fp8_row_bf16), follows:
//  * exact: to f32 (e4m3x64_normal_to_f32_times256: 11 ALU ops per 64 codes), dotted by FMA.
//    Before, each row was converted to an f32 buffer and dotted one row at a time: 24% of the
//    bandwidth;
//  * kBf16 (rounded, OperandRounding::kActivationBf16): exactly to bf16
//    (e4m3x64_normal_to_bf16_times256: 4 operations per 64 codes), dotted with bf16(x) by
//    vdpbf16ps, 32 products per instruction: hot ceiling 46 GB/s against the exact kernel's
//    31.5. Exact mode cannot take this route: f32-grade x would take three bf16 parts, 6
//    vdpbf16ps per 64 codes (27 GB/s).
// The rest take the f16 route with its NaN patch against x (rounded to bf16 on the way when
// kBf16). Prefetched kPrefetchAheadBytes ahead along each stripe (past a row's end: the next row
// of the stripe, which follows in memory).
template <int M, int R, bool kBf16>
void fp8_rows(const QuantProblem& p, int64_t r, int64_t rs) {
  constexpr int kBlock = fp8::kFp8Block, kBytes = sizeof(fp8::BlockFp8);  // f32 d | q[128]
  const int64_t nb = p.cols / kBlock;
  const size_t stride = static_cast<size_t>(rs) * p.row_bytes;
  const uint8_t* row0 = p.w + static_cast<size_t>(r) * p.row_bytes;
  const auto* prep = static_cast<const uint8_t*>(p.xprep);  // the permuted x
  const int64_t xstride = PrepLayout(p.cols).stride;        // bytes
  __m512 acc[R][M];
#pragma GCC unroll 4
  for (int j = 0; j < R; ++j)
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) acc[j][i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) {
      const uint8_t* blk = row0 + j * stride + b * kBytes;
#pragma GCC unroll 3
      for (int l = 0; l < 3; ++l)  // a block spans at most three lines
        _mm_prefetch(reinterpret_cast<const char*>(blk + kPrefetchAheadBytes + 64 * l),
                     _MM_HINT_T0);
      __m512 part[M];
#pragma GCC unroll 4
      for (int i = 0; i < M; ++i) part[i] = _mm512_setzero_ps();
      float d;
      std::memcpy(&d, blk, 4);
      // The conversion's power of two is taken out of the block sums, not folded into d: d / 256
      // would round once d is below 2^-118.
      __m512 pow2;
      if (__builtin_expect(e4m3x64_normal(blk + 4) && e4m3x64_normal(blk + 68), 1)) {
        // Every code normal: 256 times the values, against the permuted x.
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
          if constexpr (kBf16) {
            __m512i v[2];
            e4m3x64_normal_to_bf16_times256(blk + 4 + 64 * h, v);
#pragma GCC unroll 4
            for (int i = 0; i < M; ++i)
#pragma GCC unroll 2
              for (int t = 0; t < 2; ++t)
                part[i] = _mm512_dpbf16_ps(
                    part[i], reinterpret_cast<__m512bh>(v[t]),
                    reinterpret_cast<__m512bh>(
                        _mm512_loadu_si512(prep + i * xstride + ((2 * (2 * b + h) + t) * 32) * 2)));
          } else {
            __m512 v[4];
            e4m3x64_normal_to_f32_times256(blk + 4 + 64 * h, v);
            const auto* xperm = reinterpret_cast<const float*>(prep) + b * kBlock + 64 * h;
#pragma GCC unroll 4
            for (int t = 0; t < 4; ++t)
#pragma GCC unroll 4
              for (int i = 0; i < M; ++i)
                part[i] = _mm512_fmadd_ps(v[t], _mm512_loadu_ps(xperm + i * xstride / 4 + 16 * t),
                                          part[i]);
          }
        }
        pow2 = _mm512_set1_ps(1.f / 256.f);
      } else {
        // Zeros, subnormals or NaN codes: the f16 route (2^-8 times the values), NaN patched.
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {
          __m512 lo, hi;
          e4m3x32_to_f32_over256(blk + 4 + 32 * k, &lo, &hi);
#pragma GCC unroll 4
          for (int i = 0; i < M; ++i) {
            const float* x = p.x + i * p.cols + b * kBlock + 32 * k;
            __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
            if constexpr (kBf16) {
              x0 = round_to_bf16(x0);
              x1 = round_to_bf16(x1);
            }
            part[i] = _mm512_fmadd_ps(lo, x0, part[i]);
            part[i] = _mm512_fmadd_ps(hi, x1, part[i]);
          }
        }
        pow2 = _mm512_set1_ps(256.f);
      }
#pragma GCC unroll 4
      for (int i = 0; i < M; ++i)
        acc[j][i] = _mm512_fmadd_ps(_mm512_mul_ps(part[i], pow2), _mm512_set1_ps(d), acc[j][i]);
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < R; ++j)
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) p.y[i * p.rows + r + j * rs] = _mm512_reduce_add_ps(acc[j][i]);
}

template <int M, bool kBf16>
void gemv_fp8(const QuantProblem& p, int64_t r0, int64_t r1) {
  for_each_row_stripe_block<4>(
      r0, r1, [&](int64_t r, int64_t rs, int64_t, int) { fp8_rows<M, 4, kBf16>(p, r, rs); },
      [&](int64_t r, int64_t rs, int64_t, int) { fp8_rows<M, 1, kBf16>(p, r, rs); });
}

template <int M>
void gemv_m(const QuantProblem& p, const QuantDecoder& dec, int64_t r0, int64_t r1,
            uint8_t* scratch) {
  if (!dec.codes)  // fp8, the only type without a code form (quant_decode_avx512.cpp)
    p.round_x ? gemv_fp8<M, true>(p, r0, r1) : gemv_fp8<M, false>(p, r0, r1);
  else if (p.round_x)  // one digit: code width does not matter
    dec.zero ? gemv_codes<M, true, true, true>(p, dec, r0, r1, scratch)
             : gemv_codes<M, true, false, true>(p, dec, r0, r1, scratch);
  else if (dec.code_max <= kNarrowCodeMax)
    dec.zero ? gemv_codes<M, true, true, false>(p, dec, r0, r1, scratch)
             : gemv_codes<M, true, false, false>(p, dec, r0, r1, scratch);
  else
    dec.zero ? gemv_codes<M, false, true, false>(p, dec, r0, r1, scratch)
             : gemv_codes<M, false, false, false>(p, dec, r0, r1, scratch);
}

}  // namespace

size_t quant_gemv_prep_bytes(int64_t m, int64_t cols) {
  return static_cast<size_t>(m) * PrepLayout(cols).stride;
}

void quant_gemv_prepare_x(QuantType type, const float* x, int64_t m, int64_t cols, int64_t i0,
                          int64_t i1, bool round_x, void* out) {
  (void)m;
  const PrepLayout L(cols);
  const QuantDecoder& dec = quant_decoder(type);
  if (!dec.codes) {  // fp8: x permuted for fp8_rows (rounded to bf16 first in rounded mode)
    for (int64_t i = i0; i < i1; ++i) {
      uint8_t* row = static_cast<uint8_t*>(out) + i * L.stride;
      if (round_x)
        prepare_fp8_row_bf16(x + i * cols, cols, reinterpret_cast<uint16_t*>(row));
      else
        prepare_fp8_row(x + i * cols, cols, reinterpret_cast<float*>(row));
    }
    return;
  }
  for (int64_t i = i0; i < i1; ++i) {
    uint8_t* row = static_cast<uint8_t*>(out) + i * L.stride;
    if (round_x && quant_gemv_fast_rounding(type) == OperandRounding::kActivationGroup16Stride32)
      prepare_row_grouped(x + i * cols, cols, quant_gemv_fused_grouped_zero(type), row);
    else if (round_x)
      prepare_row<true>(x + i * cols, cols, dec.zero, row);
    else
      prepare_row<false>(x + i * cols, cols, dec.zero, row);
  }
}

namespace {
// INSITU_GEMV_GENERAL=1 forces the decode-to-buffer path (A/B benchmarks of the fused one).
bool force_general_path() {
  static const bool force = std::getenv("INSITU_GEMV_GENERAL") != nullptr;
  return force;
}
}  // namespace

OperandRounding quant_gemv_fast_rounding(QuantType type) {
  if (!quant_decoder(type).codes) return OperandRounding::kActivationBf16;  // fp8_rows
  const OperandRounding grouped = quant_gemv_fused_grouped_rounding(type);
  return grouped != OperandRounding::kNone && !force_general_path()
             ? grouped
             : OperandRounding::kActivationLane8;
}

size_t quant_gemv_scratch_bytes(QuantType, int64_t, int64_t) {
  return kMaxRowBlock * kRowBuf;  // the decode-to-buffer rows; fp8 needs none
}

void quant_gemv(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  const QuantDecoder& dec = quant_decoder(p.type);
  auto* s = static_cast<uint8_t*>(scratch);
  const PrepLayout L(p.cols);
  QuantProblem q = p;
  const bool use_fused = !force_general_path() && quant_gemv_fused_supported(p.type, p.cols);
  // Groups of up to 4 activation rows (the dispatcher sends at most 4; any m is correct).
  for (int64_t i0 = 0; i0 < p.m; i0 += 4) {
    q.x = p.x + i0 * p.cols;
    q.y = p.y + i0 * p.rows;
    q.xprep = static_cast<const uint8_t*>(p.xprep) + i0 * L.stride;
    q.m = p.m - i0 < 4 ? p.m - i0 : 4;
    if (use_fused) {
      quant_gemv_fused(q, r0, r1);
      continue;
    }
    switch (q.m) {
      case 1: gemv_m<1>(q, dec, r0, r1, s); break;
      case 2: gemv_m<2>(q, dec, r0, r1, s); break;
      case 3: gemv_m<3>(q, dec, r0, r1, s); break;
      default: gemv_m<4>(q, dec, r0, r1, s); break;
    }
  }
}

namespace {
const QuantKernelSet kAvx512Set = {
    "avx512-vnni",
    "avx512",
    kQuantGemvMaxM,
    {quant_gemv, 16, quant_gemv_scratch_bytes, quant_gemv_prep_bytes, quant_gemv_prepare_x,
     quant_gemv_fast_rounding},
    {quant_gemm, kQuantGemmRowGrain, quant_gemm_scratch_bytes, quant_gemm_prep_bytes,
     quant_gemm_prepare_x, quant_gemm_fast_rounding, /*row_groups=*/true},
    avx512::quant_gemv_groups_supported,
    avx512::kQuantGemvGroupsPath,
    avx512::unpack_row_groups,
};
}  // namespace

}  // namespace insitu::kernels::avx512

namespace insitu::kernels {
const QuantKernelSet& quant_kernels_avx512() {
  return avx512::kAvx512Set;
}
}  // namespace insitu::kernels

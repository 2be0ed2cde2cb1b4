// Integer decode GEMV for AVX2 (see quant_gemv_int_avx2.h).
//
// Per 32 columns and weight row: the codes (u8, column order) times the activation digits (s8)
// by vpmaddubsw (16-bit sums of pairs, |sum| <= 2 * 15 * 127) and vpmaddwd by ones (one int32
// per 4-column lane), plus the lane's zero-point correction (-zero * digit sum, exact in
// int32), converted and multiplied by weight scale x lane scale into an f32 accumulator. q4_K's
// minimums use the sums of the rounded activations, so the result is the exact product of the
// dequantized weights with the rounded activations (held to f32-grade bounds against that
// product by tests/kernels/quant_matmul_test.cpp at the AVX2 level).
#include "kernels/cpu/x86/avx2/quant_gemv_int_avx2.h"

#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "kernels/cpu/row_stripes.h"
#include "kernels/cpu/x86/avx2/simd256.h"
#include "kernels/cpu/x86/kquant_scales_x86.h"
#include "quant/mxfp4/mxfp4.h"

namespace insitu::kernels::avx2 {
namespace {

// Weight rows per pass, from as many stripes of the thread's chunk (row_stripes.h): 4 at
// m = 1; fewer at larger m, whose R x M accumulators must fit the 16 ymm registers.
constexpr int rows_per_pass(int m) {
  return m == 1 ? 4 : m == 2 ? 2 : 1;
}

struct Layout {
  int64_t sx_off, zc_off, sum_off, stride;
  explicit Layout(int64_t cols) {
    sx_off = cols;
    zc_off = sx_off + cols;
    sum_off = zc_off + cols;
    stride = (sum_off + cols / 4 + 31) / 32 * 32;
  }
};

int zero_point(QuantType type) {
  switch (type) {
    case QuantType::kQ4_0: return 8;
    case QuantType::kQ5_0: return 16;
    case QuantType::kQ3K: return 4;
    case QuantType::kQ6K: return 32;
    case QuantType::kMxfp4: return 12;
    default: return 0;
  }
}

float f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Codes of 16 packed bytes in column order: low nibbles (columns 0..15), then high nibbles.
inline __m256i nibbles(const uint8_t* q16) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q16));
  const __m128i mask = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), mask), _mm_and_si128(v, mask));
}

// sum over the 32 columns at c of (code + correction) * digit * lane scale, times w_scale.
struct Act {
  const int8_t* digits;
  const float* sx;
  const int32_t* zc;
  const float* sums16;  // sums of the rounded x per 16 columns
};

inline __m256 lanes(__m256i codes, const Act& a, int64_t c) {
  const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.digits + c));
  __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(codes, d), _mm256_set1_epi16(1));
  s = _mm256_add_epi32(s, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.zc + c / 4)));
  return _mm256_mul_ps(_mm256_cvtepi32_ps(s), _mm256_loadu_ps(a.sx + c / 4));
}

// acc[i] += the 32 columns at col of codes times activation row i, times ws (per lane).
template <int M>
inline void add_columns(__m256i codes, __m256 ws, const Act* act, int64_t col, __m256 (&acc)[M]) {
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i) acc[i] = _mm256_fmadd_ps(lanes(codes, act[i], col), ws, acc[i]);
}

// Sixteen signed bytes (per-16-column group scales or minimums) times d, into out[16].
inline void scaled16(__m128i v8, __m256 d, float* out) {
  _mm256_store_ps(out, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v8)), d));
  _mm256_store_ps(
      out + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(v8, 8))), d));
}

// Lane weights of 32 columns made of two 16-column groups with scales s[0], s[1].
inline __m256 two_groups(const float* s) {
  return _mm256_set_m128(_mm_set1_ps(s[1]), _mm_set1_ps(s[0]));
}

// Rows r + j * rs (j < R: the stripes of for_each_row_stripe_block, R separate DRAM streams,
// each prefetched kPrefetchAheadBytes ahead): block(blk, b, acc) adds block b (at blk) of a row
// to one accumulator per activation row; the R rows advance block by block together, and y gets
// their sums. R is a template parameter so that acc[R][M] stays in registers (indexed by a
// runtime row count, the accumulators went to memory: 1.7-2.6x slower, session 11).
template <int M, int R, class Block>
void rows_by_block(const QuantProblem& p, int64_t r, int64_t rs, int64_t block_cols,
                   int64_t block_bytes, Block&& block) {
  const int64_t nb = p.cols / block_cols;
  const uint8_t* row[R];
  __m256 acc[R][M];
#pragma GCC unroll 4
  for (int j = 0; j < R; ++j) {
    row[j] = p.w + static_cast<size_t>(r + j * rs) * p.row_bytes;
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) acc[j][i] = _mm256_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) {
      const uint8_t* blk = row[j] + block_bytes * b;
      // Past a row's end: the next row of its stripe, which follows in memory.
      for (int64_t off = 0; off < block_bytes; off += 64)
        _mm_prefetch(reinterpret_cast<const char*>(blk + kPrefetchAheadBytes + off), _MM_HINT_T0);
      block(blk, b, acc[j]);
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < R; ++j)
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) p.y[i * p.rows + r + j * rs] = hsum8(acc[j][i]);
}

// acc[i] -= the minimums (one per 16 columns of block b, times dmin) times activation row i's
// 16-column sums.
template <int M>
inline void sub_minimums(const float* mn16, const Act* act, int64_t b, __m256 (&acc)[M]) {
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i) {
    acc[i] =
        _mm256_fnmadd_ps(_mm256_load_ps(mn16), _mm256_loadu_ps(act[i].sums16 + 16 * b), acc[i]);
    acc[i] = _mm256_fnmadd_ps(_mm256_load_ps(mn16 + 8), _mm256_loadu_ps(act[i].sums16 + 16 * b + 8),
                              acc[i]);
  }
}

// q4_0: blocks of (f16 d | qs[16]), value = (code - 8) * d.
template <int M, int R>
void rows_q4_0(const QuantProblem& p, int64_t r, int64_t rs, const Act* act) {
  rows_by_block<M, R>(p, r, rs, 32, 18, [&](const uint8_t* blk, int64_t b, __m256(&acc)[M]) {
    add_columns<M>(nibbles(blk + 2), _mm256_set1_ps(f16(blk)), act, 32 * b, acc);
  });
}

// acc[i] += bias * (sum of activation row i's rounded x over the kCols columns at col): the
// bias term of a 64-element AFQ / HQQ group (four 16-column sums in lanes 0..3) or the minimum
// of a 32-element q4_1 / q5_1 block (two sums in lanes 0..1).
template <int M, int kCols = 64>
inline void add_group_bias(float bias, const Act* act, int64_t col, __m256 (&acc)[M]) {
  static_assert(kCols == 32 || kCols == 64);
  const __m256 bv = _mm256_set1_ps(bias);
#pragma GCC unroll 4
  for (int i = 0; i < M; ++i) {
    const float* s = act[i].sums16 + col / 16;
    const __m128 sums = kCols == 64
                            ? _mm_loadu_ps(s)
                            : _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(s)));
    acc[i] = _mm256_fmadd_ps(_mm256_zextps128_ps256(sums), bv, acc[i]);
  }
}

// The fifth code bits of a q5_0 / q5_1 block (bit j of the 32-bit qh: column j) as 0x10 in byte
// j, matching nibbles()' column order: each byte takes qh byte j / 8, keeps bit j % 8 and turns
// it into 0x10.
inline __m256i fifth_bits(const uint8_t* qh) {
  int32_t h;
  std::memcpy(&h, qh, 4);
  // vpshufb indexes within each 128-bit half; both halves hold qh's 4 bytes in every dword.
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(h), _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2,
                                             2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(0x8040201008040201LL);
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit),
                          _mm256_set1_epi8(0x10));
}

// q4_1 (kFive false): blocks of (f16 d | f16 m | qs[16]); q5_1 (kMin, kFive): (f16 d | f16 m |
// qh[4] | qs[16]); q5_0 (kFive, no kMin): (f16 d | qh[4] | qs[16]), zero point 16. Nibbles in
// q4_0's order, qh bit j the fifth bit of column j; value d * code + m, or d * (code - 16).
template <int M, int R, bool kMin, bool kFive>
void rows_legacy(const QuantProblem& p, int64_t r, int64_t rs, const Act* act) {
  constexpr int64_t kQh = kMin ? 4 : 2, kQs = kQh + (kFive ? 4 : 0);
  rows_by_block<M, R>(p, r, rs, 32, kQs + 16, [&](const uint8_t* blk, int64_t b, __m256(&acc)[M]) {
    __m256i codes = nibbles(blk + kQs);
    if constexpr (kFive) codes = _mm256_or_si256(codes, fifth_bits(blk + kQh));
    add_columns<M>(codes, _mm256_set1_ps(f16(blk)), act, 32 * b, acc);
    if constexpr (kMin) add_group_bias<M, 32>(f16(blk + 2), act, 32 * b, acc);
  });
}

// MXFP4: blocks of (u8 e8m0 | qs[16]) in q4_0's nibble order; a byte table turns each E2M1
// nibble into its code 12 + 2 * e2m1 (0..24, zero point 12), the block scale is 2^(e - 128).
template <int M, int R>
void rows_mxfp4(const QuantProblem& p, int64_t r, int64_t rs, const Act* act) {
  const __m256i lut = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(mxfp4::kE2M1Codes)));
  rows_by_block<M, R>(p, r, rs, 32, 17, [&](const uint8_t* blk, int64_t b, __m256(&acc)[M]) {
    add_columns<M>(_mm256_shuffle_epi8(lut, nibbles(blk + 1)),
                   _mm256_set1_ps(mxfp4::pow2_e8m0_half(blk[0])), act, 32 * b, acc);
  });
}

// HQQ4: groups of 64 (f32 scale | f32 zero | byte k = q[k] << 4 | q[k + 32]); value =
// (q - zero) * scale = q * scale - zero * scale.
template <int M, int R>
void rows_hqq4(const QuantProblem& p, int64_t r, int64_t rs, const Act* act) {
  const __m256i mask = _mm256_set1_epi8(0x0F);
  rows_by_block<M, R>(p, r, rs, 64, 40, [&](const uint8_t* blk, int64_t b, __m256(&acc)[M]) {
    float scale, zero;
    std::memcpy(&scale, blk, 4);
    std::memcpy(&zero, blk + 4, 4);
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 8));
    const __m256 ws = _mm256_set1_ps(scale);
    add_columns<M>(_mm256_and_si256(_mm256_srli_epi16(v, 4), mask), ws, act, 64 * b, acc);
    add_columns<M>(_mm256_and_si256(v, mask), ws, act, 64 * b + 32, acc);
    add_group_bias<M>(-(zero * scale), act, 64 * b, acc);
  });
}

// 3- and 6-bit AFQ codes straddle bytes. Code j of a group sits at bit kBits * j of its code
// bytes: it is bits s..s + kBits - 1 of the 16-bit window at byte k = kBits * j / 8, s =
// kBits * j % 8. StraddledCodes spreads 16 codes (half h of 32-code chunk c) into 16-bit lanes:
// each 16-byte load (at `start`, kept inside the group's code bytes) is shuffled into the
// windows, multiplied by 2^(8 - s) (a per-lane left shift: AVX2 has no variable 16-bit shifts)
// and shifted right by 8, leaving the code in bits 0..kBits - 1 under junk that the caller
// masks.
template <int kBits>
struct StraddledCodes {
  static constexpr int kCodeBytes = 8 * kBits;  // per 64-code group
  static constexpr int start(int c, int h) {
    const int want = 4 * kBits * c + 2 * kBits * h;  // the first byte the 16 codes use
    return want < kCodeBytes - 16 ? want : kCodeBytes - 16;
  }
  struct Tables {
    alignas(32) uint8_t shuffle[2][2][32];  // [c][h]: vpshufb control (per 128-bit half)
    alignas(32) uint16_t mul[2][2][16];     // [c][h]: 2^(8 - s) per lane
  };
  static constexpr Tables tables() {
    Tables t{};
    for (int c = 0; c < 2; ++c)
      for (int h = 0; h < 2; ++h)
        for (int i = 0; i < 16; ++i) {
          const int j = 32 * c + 16 * h + i, bit = kBits * j;
          const int k = bit / 8 - start(c, h);  // window bytes k, k + 1 of the load
          // A window byte past the load holds only bits above the code: zero it (0x80).
          t.shuffle[c][h][2 * i] = static_cast<uint8_t>(k);
          t.shuffle[c][h][2 * i + 1] = static_cast<uint8_t>(k + 1 < 16 ? k + 1 : 0x80);
          t.mul[c][h][i] = static_cast<uint16_t>(1 << (8 - bit % 8));
        }
    return t;
  }
  static constexpr Tables kTables = tables();
  static __m256i half(const uint8_t* q, int c, int h) {
    const __m256i v = _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + start(c, h))));
    const __m256i w = _mm256_shuffle_epi8(
        v, _mm256_load_si256(reinterpret_cast<const __m256i*>(kTables.shuffle[c][h])));
    return _mm256_srli_epi16(
        _mm256_mullo_epi16(w,
                           _mm256_load_si256(reinterpret_cast<const __m256i*>(kTables.mul[c][h]))),
        8);
  }
};

// The 64 codes of an AFQ group (MLX's little-endian bit stream at q) as bytes in column order:
// codes[0] columns 0..31, codes[1] 32..63.
template <int kBits>
inline void afq_codes(const uint8_t* q, __m256i (&codes)[2]) {
  static_assert(kBits == 2 || kBits == 3 || kBits == 4 || kBits == 6);
  if constexpr (kBits == 3 || kBits == 6) {
    const __m256i mask = _mm256_set1_epi8((1 << kBits) - 1);
    for (int c = 0; c < 2; ++c) {
      // packus interleaves the halves' 128-bit lanes; the permute puts columns back in order
      const __m256i packed = _mm256_packus_epi16(StraddledCodes<kBits>::half(q, c, 0),
                                                 StraddledCodes<kBits>::half(q, c, 1));
      codes[c] = _mm256_and_si256(_mm256_permute4x64_epi64(packed, 0xD8), mask);
    }
  } else if constexpr (kBits == 4) {  // byte i = code 2i | code 2i + 1 << 4
    const __m128i m = _mm_set1_epi8(0x0F);
    for (int h = 0; h < 2; ++h) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16 * h));
      const __m128i lo = _mm_and_si128(v, m), hi = _mm_and_si128(_mm_srli_epi16(v, 4), m);
      codes[h] = _mm256_set_m128i(_mm_unpackhi_epi8(lo, hi), _mm_unpacklo_epi8(lo, hi));
    }
  } else {  // byte i = codes 4i..4i + 3 at bits 0, 2, 4, 6: planes, then interleaved
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    __m128i pl[4];
    for (int k = 0; k < 4; ++k) pl[k] = _mm_and_si128(_mm_srli_epi16(v, 2 * k), _mm_set1_epi8(3));
    const __m128i a_lo = _mm_unpacklo_epi8(pl[0], pl[1]), a_hi = _mm_unpackhi_epi8(pl[0], pl[1]);
    const __m128i c_lo = _mm_unpacklo_epi8(pl[2], pl[3]), c_hi = _mm_unpackhi_epi8(pl[2], pl[3]);
    codes[0] = _mm256_set_m128i(_mm_unpackhi_epi16(a_lo, c_lo), _mm_unpacklo_epi16(a_lo, c_lo));
    codes[1] = _mm256_set_m128i(_mm_unpackhi_epi16(a_hi, c_hi), _mm_unpacklo_epi16(a_hi, c_hi));
  }
}

// AFQ 2-, 3-, 4- and 6-bit: groups of 64 (f16 scale | f16 bias | codes), value code * scale + bias.
template <int M, int R, int kBits>
void rows_afq(const QuantProblem& p, int64_t r, int64_t rs, const Act* act) {
  rows_by_block<M, R>(p, r, rs, 64, 4 + 8 * kBits,
                      [&](const uint8_t* blk, int64_t b, __m256(&acc)[M]) {
                        __m256i codes[2];
                        afq_codes<kBits>(blk + 4, codes);
                        const __m256 ws = _mm256_set1_ps(f16(blk));
                        add_columns<M>(codes[0], ws, act, 64 * b, acc);
                        add_columns<M>(codes[1], ws, act, 64 * b + 32, acc);
                        add_group_bias<M>(f16(blk + 2), act, 64 * b, acc);
                      });
}

// Bit k of every byte moved to bit 4 (the 5th code bit), other bits cleared.
inline __m256i bit_to_4(__m256i v, int k) {
  const __m256i m = _mm256_set1_epi8(0x10);
  return _mm256_and_si256(k <= 4 ? _mm256_slli_epi16(v, 4 - k) : _mm256_srli_epi16(v, k - 4), m);
}

// q4_K: f16 d | f16 dmin | scales[12] | qs[128]; q5_K (kFive): f16 d | f16 dmin | scales[12] |
// qh[32] | qs[128]. Sub-block s (32 columns) = low (s even) or high (s odd) nibbles of
// qs[32(s / 2)..+31], plus for q5_K bit s of qh[l] as the 5th bit; value = d * sc_s * code -
// dmin * m_s.
template <int M, int R, bool kFive>
void rows_q45k(const QuantProblem& p, int64_t r, int64_t rs, const Act* act) {
  constexpr int64_t kQs = kFive ? 48 : 16;
  const __m256i mask = _mm256_set1_epi8(0x0F);
  rows_by_block<M, R>(
      p, r, rs, 256, kFive ? 176 : 144, [&](const uint8_t* blk, int64_t b, __m256(&acc)[M]) {
        const __m128i sm = k4_scale_min_bytes(blk + 4);  // sc0..sc7 | m0..m7 (all < 64)
        // Scale and minimum per 32-column sub-block, each repeated for its two 16-column groups.
        const __m128i rep2 = _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
        alignas(32) float sc[16], mn[16];
        scaled16(_mm_shuffle_epi8(sm, rep2), _mm256_set1_ps(f16(blk)), sc);
        scaled16(_mm_shuffle_epi8(_mm_srli_si128(sm, 8), rep2), _mm256_set1_ps(f16(blk + 2)), mn);
        const __m256i qh =
            kFive ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16)) : __m256i{};
        for (int h = 0; h < 4; ++h) {
          const __m256i q =
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQs + 32 * h));
          __m256i lo = _mm256_and_si256(q, mask);
          __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), mask);
          if constexpr (kFive) {
            lo = _mm256_or_si256(lo, bit_to_4(qh, 2 * h));
            hi = _mm256_or_si256(hi, bit_to_4(qh, 2 * h + 1));
          }
          add_columns<M>(lo, _mm256_set1_ps(sc[4 * h]), act, 256 * b + 64 * h, acc);
          add_columns<M>(hi, _mm256_set1_ps(sc[4 * h + 2]), act, 256 * b + 64 * h + 32, acc);
        }
        sub_minimums<M>(mn, act, b, acc);
      });
}

// q2_K: scales[16] | qs[64] | f16 d | f16 dmin; element 128c + 32g + l =
// (qs[32c + l] >> 2g) & 3; group j (16 columns) has scale d * (scales[j] & 15) and minimum
// dmin * (scales[j] >> 4).
template <int M, int R>
void rows_q2k(const QuantProblem& p, int64_t r, int64_t rs, const Act* act) {
  const __m256i mask2 = _mm256_set1_epi8(0x03);
  rows_by_block<M, R>(p, r, rs, 256, 84, [&](const uint8_t* blk, int64_t b, __m256(&acc)[M]) {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk));
    alignas(32) float sc[16], mn[16];
    scaled16(_mm_and_si128(raw, _mm_set1_epi8(0x0F)), _mm256_set1_ps(f16(blk + 80)), sc);
    scaled16(_mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(0x0F)),
             _mm256_set1_ps(f16(blk + 82)), mn);
    for (int c = 0; c < 2; ++c) {
      const __m256i qs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16 + 32 * c));
      for (int g = 0; g < 4; ++g)
        add_columns<M>(_mm256_and_si256(_mm256_srli_epi16(qs, 2 * g), mask2),
                       two_groups(sc + 8 * c + 2 * g), act, 256 * b + 128 * c + 32 * g, acc);
    }
    sub_minimums<M>(mn, act, b, acc);
  });
}

// q3_K: hmask[32] | qs[64] | scales[12] | f16 d; element 128h + 32g + l: low 2 bits
// (qs[32h + l] >> 2g) & 3, bit 4h + g of hmask[l] adds 4; value = d * (sc - 32) * (code - 4)
// with sixteen 6-bit scales, one per 16 columns.
template <int M, int R>
void rows_q3k(const QuantProblem& p, int64_t r, int64_t rs, const Act* act) {
  const __m256i mask2 = _mm256_set1_epi8(0x03), mask_b2 = _mm256_set1_epi8(0x04);
  rows_by_block<M, R>(p, r, rs, 256, 110, [&](const uint8_t* blk, int64_t b, __m256(&acc)[M]) {
    alignas(32) float sc[16];
    scaled16(_mm_sub_epi8(q3k_scale_bytes(blk + 96), _mm_set1_epi8(32)),
             _mm256_set1_ps(f16(blk + 108)), sc);
    const __m256i hm = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk));
    for (int h = 0; h < 2; ++h) {
      const __m256i qs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 32 + 32 * h));
      for (int g = 0; g < 4; ++g) {
        const int k = 4 * h + g;  // hmask bit, moved to bit 2
        const __m256i hb = _mm256_and_si256(
            k <= 2 ? _mm256_slli_epi16(hm, 2 - k) : _mm256_srli_epi16(hm, k - 2), mask_b2);
        const __m256i codes =
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qs, 2 * g), mask2), hb);
        add_columns<M>(codes, two_groups(sc + 8 * h + 2 * g), act, 256 * b + 128 * h + 32 * g, acc);
      }
    }
  });
}

// q6_K: ql[128] | qh[64] | int8 scales[16] | f16 d; element 128h + 32q + l has low bits from
// ql[64h + 32(q & 1) + l] (low nibble for q < 2, high for q >= 2) and high bits
// (qh[32h + l] >> 2q) & 3; value = d * scale[e / 16] * (code - 32).
template <int M, int R>
void rows_q6k(const QuantProblem& p, int64_t r, int64_t rs, const Act* act) {
  const __m256i mask4 = _mm256_set1_epi8(0x0F), mask2 = _mm256_set1_epi8(0x30);
  rows_by_block<M, R>(p, r, rs, 256, 210, [&](const uint8_t* blk, int64_t b, __m256(&acc)[M]) {
    alignas(32) float sc[16];
    scaled16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 192)),
             _mm256_set1_ps(f16(blk + 208)), sc);
    for (int h = 0; h < 2; ++h) {
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 128 + 32 * h));
      for (int q = 0; q < 4; ++q) {
        const __m256i ql =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 64 * h + 32 * (q & 1)));
        const __m256i lo = _mm256_and_si256(q < 2 ? ql : _mm256_srli_epi16(ql, 4), mask4);
        // bits 2q, 2q + 1 of qh to bits 4, 5
        const __m256i hi = _mm256_and_si256(
            2 * q >= 4 ? _mm256_srli_epi16(qh, 2 * q - 4) : _mm256_slli_epi16(qh, 4 - 2 * q),
            mask2);
        add_columns<M>(_mm256_or_si256(lo, hi), two_groups(sc + 8 * h + 2 * q), act,
                       256 * b + 128 * h + 32 * q, acc);
      }
    }
  });
}

template <int M>
void gemv_m(const QuantProblem& p, int64_t r0, int64_t r1) {
  const Layout L(p.cols);
  Act act[M];
  for (int i = 0; i < M; ++i) {
    const auto* base = static_cast<const uint8_t*>(p.xprep) + i * L.stride;
    act[i] = {reinterpret_cast<const int8_t*>(base),
              reinterpret_cast<const float*>(base + L.sx_off),
              reinterpret_cast<const int32_t*>(base + L.zc_off),
              reinterpret_cast<const float*>(base + L.sum_off)};
  }
  const auto rows = [&](auto rows_const, int64_t r, int64_t rs) {
    constexpr int R = decltype(rows_const)::value;
    switch (p.type) {
      case QuantType::kQ4_0: rows_q4_0<M, R>(p, r, rs, act); break;
      case QuantType::kQ4_1: rows_legacy<M, R, true, false>(p, r, rs, act); break;
      case QuantType::kQ5_0: rows_legacy<M, R, false, true>(p, r, rs, act); break;
      case QuantType::kQ5_1: rows_legacy<M, R, true, true>(p, r, rs, act); break;
      case QuantType::kQ4K: rows_q45k<M, R, false>(p, r, rs, act); break;
      case QuantType::kQ5K: rows_q45k<M, R, true>(p, r, rs, act); break;
      case QuantType::kQ3K: rows_q3k<M, R>(p, r, rs, act); break;
      case QuantType::kQ2K: rows_q2k<M, R>(p, r, rs, act); break;
      case QuantType::kMxfp4: rows_mxfp4<M, R>(p, r, rs, act); break;
      case QuantType::kHqq4: rows_hqq4<M, R>(p, r, rs, act); break;
      case QuantType::kAfq2: rows_afq<M, R, 2>(p, r, rs, act); break;
      case QuantType::kAfq3: rows_afq<M, R, 3>(p, r, rs, act); break;
      case QuantType::kAfq4: rows_afq<M, R, 4>(p, r, rs, act); break;
      case QuantType::kAfq6: rows_afq<M, R, 6>(p, r, rs, act); break;
      default: rows_q6k<M, R>(p, r, rs, act); break;
    }
  };
  for_each_row_stripe_block<rows_per_pass(M)>(
      r0, r1,
      [&](int64_t r, int64_t rs, int64_t, int) {
        rows(std::integral_constant<int, rows_per_pass(M)>{}, r, rs);
      },
      [&](int64_t r, int64_t, int64_t, int) { rows(std::integral_constant<int, 1>{}, r, 1); });
}

}  // namespace

bool quant_gemv_int_supported(QuantType type) {
  switch (type) {
    case QuantType::kQ4_0:
    case QuantType::kQ4_1:
    case QuantType::kQ5_0:
    case QuantType::kQ5_1:
    case QuantType::kQ2K:
    case QuantType::kQ3K:
    case QuantType::kQ4K:
    case QuantType::kQ5K:
    case QuantType::kQ6K:
    case QuantType::kMxfp4:
    case QuantType::kHqq4:
    case QuantType::kAfq2:
    case QuantType::kAfq3:
    case QuantType::kAfq4:
    case QuantType::kAfq6: return true;
    default: return false;
  }
}

size_t quant_gemv_int_prep_bytes(int64_t m, int64_t cols) {
  return static_cast<size_t>(m * Layout(cols).stride);
}

void quant_gemv_int_prepare(QuantType type, const float* x, int64_t cols, int64_t i0, int64_t i1,
                            void* out) {
  const Layout L(cols);
  const __m256i negz = _mm256_set1_epi32(-zero_point(type));
  const __m256 inv_max = _mm256_set1_ps(1.f / 127.f);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  // Lanes 0 and 4 (one per 4-element lane) to the bottom.
  const __m256i pick04 = _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4);
  for (int64_t i = i0; i < i1; ++i) {
    auto* base = static_cast<uint8_t*>(out) + i * L.stride;
    auto* digits = reinterpret_cast<int8_t*>(base);
    auto* sx = reinterpret_cast<float*>(base + L.sx_off);
    auto* zc = reinterpret_cast<int32_t*>(base + L.zc_off);
    auto* sums = reinterpret_cast<float*>(base + L.sum_off);
    const float* xr = x + i * cols;
    // The same rounding as the AVX-512 kernel and OperandRounding::kActivationLane8:
    // s = max|lane| * (1 / 127.f), q = nearbyint(x / s) (0 where s is 0).
    for (int64_t c = 0; c < cols; c += 16) {
      __m256 xsum = _mm256_setzero_ps();
      for (int64_t l = c; l < c + 16; l += 8) {
        const __m256 v = _mm256_loadu_ps(xr + l);
        __m256 a = _mm256_and_ps(v, abs_mask);
        a = _mm256_max_ps(a, _mm256_permute_ps(a, 0xB1));
        a = _mm256_max_ps(a, _mm256_permute_ps(a, 0x4E));
        const __m256 sv = _mm256_mul_ps(a, inv_max);
        const __m256 nz = _mm256_cmp_ps(sv, _mm256_setzero_ps(), _CMP_GT_OQ);
        const __m256i q =
            _mm256_and_si256(_mm256_cvtps_epi32(_mm256_div_ps(v, sv)), _mm256_castps_si256(nz));
        xsum = _mm256_add_ps(xsum, _mm256_mul_ps(_mm256_cvtepi32_ps(q), sv));
        // int32 -> int8 (|q| <= 127): bytes 0..3 of each 128-bit half.
        const __m256i q8 = _mm256_packs_epi16(_mm256_packs_epi32(q, q), _mm256_setzero_si256());
        const __m256i q8lo = _mm256_permutevar8x32_epi32(q8, pick04);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(digits + l), _mm256_castsi256_si128(q8lo));
        _mm_storel_pi(reinterpret_cast<__m64*>(sx + l / 4),
                      _mm256_castps256_ps128(_mm256_permutevar8x32_ps(sv, pick04)));
        __m256i t = _mm256_add_epi32(q, _mm256_shuffle_epi32(q, 0xB1));
        t = _mm256_mullo_epi32(_mm256_add_epi32(t, _mm256_shuffle_epi32(t, 0x4E)), negz);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(zc + l / 4),
                         _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(t, pick04)));
      }
      sums[c / 16] = hsum8(xsum);
    }
  }
}

void quant_gemv_int(const QuantProblem& p, int64_t r0, int64_t r1) {
  switch (p.m) {
    case 1: gemv_m<1>(p, r0, r1); break;
    case 2: gemv_m<2>(p, r0, r1); break;
    case 3: gemv_m<3>(p, r0, r1); break;
    default: gemv_m<4>(p, r0, r1); break;
  }
}

}  // namespace insitu::kernels::avx2

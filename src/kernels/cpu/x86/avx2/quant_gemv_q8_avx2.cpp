// Exact decode GEMV for byte codes (and fp8) on AVX2 (see quant_gemv_q8_avx2.h).
//
// Per block and row: the block's codes times x in f32, 8 codes per step (sign or zero
// extension and conversion, or fp8's conversion; FMA), then acc += d * the block's sum, plus
// bias * (sum of x) for the biased types (rows_q8). The products are exact, the sums
// f32: the same grade as the AVX-512 kernels' (held to the f32-grade bounds of
// tests/kernels/quant_matmul_test.cpp at the AVX2 level).
#include "kernels/cpu/x86/avx2/quant_gemv_q8_avx2.h"

#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "kernels/cpu/activation_groups.h"
#include "kernels/cpu/row_stripes.h"
#include "kernels/cpu/x86/avx2/quant_decode_avx2.h"
#include "kernels/cpu/x86/avx2/simd256.h"
#include "quant/fp8/fp8.h"

namespace insitu::kernels::avx2 {
namespace {

// Block layouts: kCols codes at kCodes, scale(blk, f8) the block's dequantization scale (f8:
// fp8::f8q8_block_scales(), looked up once per call: per block it was a call and a guard check,
// tg32 f8q8 15.8 tok/s where q8_0 ran at 28.9).
// codes8(q): 8 codes at q as f32 (times kCodeFactor); all_normal(blk): whether codes8 holds for
// every code of the block (else the block goes through the exact block decoder).
template <bool kUnsignedCodes>
struct ByteCodes {
  static constexpr bool kUnsigned = kUnsignedCodes;
  static constexpr float kCodeFactor = 1.f;
  static __m256 codes8(const uint8_t* q) {
    const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q));
    return _mm256_cvtepi32_ps(kUnsigned ? _mm256_cvtepu8_epi32(v) : _mm256_cvtepi8_epi32(v));
  }
  static bool all_normal(const uint8_t*) { return true; }
};

struct Q8_0 : ByteCodes<false> {  // f16 d | qs[32]
  static constexpr int64_t kCols = 32, kBytes = 34, kCodes = 2;
  static constexpr bool kBias = false;  // no bias term
  static float bias(const uint8_t*) { return 0.f; }
  static float scale(const uint8_t* blk, const float*) {
    uint16_t h;
    std::memcpy(&h, blk, 2);
    return _cvtsh_ss(h);
  }
};
struct Q8_1 : Q8_0 {  // f16 d | f16 s | qs[32]
  static constexpr int64_t kBytes = 36, kCodes = 4;
};
struct Q8K : ByteCodes<false> {  // f32 d | qs[256] | bsums[16]
  static constexpr int64_t kCols = 256, kBytes = 292, kCodes = 4;
  static constexpr bool kBias = false;
  static float bias(const uint8_t*) { return 0.f; }
  static float scale(const uint8_t* blk, const float*) {
    float d;
    std::memcpy(&d, blk, 4);
    return d;
  }
};
struct F8Q8 : ByteCodes<false> {  // e4m3 d | q[32]
  static constexpr int64_t kCols = 32, kBytes = 33, kCodes = 1;
  static constexpr bool kBias = false;
  static float bias(const uint8_t*) { return 0.f; }
  static float scale(const uint8_t* blk, const float* f8) { return f8[blk[0]]; }
};

// Unsigned codes with a bias per group of 64: value = scale * code + bias, the bias applied as
// bias * (sum of x over the group).
struct Afq8 : ByteCodes<true> {  // f16 scale | f16 bias | q[64]
  static constexpr int64_t kCols = 64, kBytes = 68, kCodes = 4;
  static constexpr bool kBias = true;
  static float scale(const uint8_t* blk, const float*) { return Q8_0::scale(blk, nullptr); }
  static float bias(const uint8_t* blk) { return Q8_0::scale(blk + 2, nullptr); }
};
struct Hqq8 : ByteCodes<true> {  // f32 scale | f32 zero | q[64]; value = (q - zero) * scale
  static constexpr int64_t kCols = 64, kBytes = 72, kCodes = 8;
  static constexpr bool kBias = true;
  static float scale(const uint8_t* blk, const float*) { return Q8K::scale(blk, nullptr); }
  static float bias(const uint8_t* blk) {
    return -Q8K::scale(blk + 4, nullptr) * scale(blk, nullptr);
  }
};

// fp8: f32 d | e4m3 q[128]. A normal code (exponent field 1..14, or 15 with mantissa < 7) placed
// at the top of a dword and shifted right arithmetically by 4 has its mantissa at bits 20..22,
// its exponent at 23..26 and its sign at 27..31; keeping sign, exponent and mantissa and setting
// bit 30 adds 128 to the exponent: 2^(e + 1) (1 + m / 8), 256 times its value (as the AVX-512
// kernel's conversion). One shuffle puts each code at the top of its dword. Blocks with zeros,
// subnormals or NaN codes take the exact block decoder.
struct Fp8 {
  static constexpr int64_t kCols = 128, kBytes = 132, kCodes = 4;
  static constexpr bool kBias = false;
  static constexpr float kCodeFactor = 256.f;
  static __m256 codes8(const uint8_t* q) {
    const __m256i v = _mm256_set1_epi64x(load_u64(q));
    // byte k of the 8 to byte 3 of dword k (pshufb works per 128-bit half: both hold the 8)
    const __m256i top = _mm256_shuffle_epi8(
        v, _mm256_setr_epi8(-1, -1, -1, 0, -1, -1, -1, 1, -1, -1, -1, 2, -1, -1, -1, 3, -1, -1, -1,
                            4, -1, -1, -1, 5, -1, -1, -1, 6, -1, -1, -1, 7));
    const __m256i f =
        _mm256_or_si256(_mm256_and_si256(_mm256_srai_epi32(top, 4),
                                         _mm256_set1_epi32(static_cast<int>(0x87F00000u))),
                        _mm256_set1_epi32(0x40000000));
    return _mm256_castsi256_ps(f);
  }
  static bool all_normal(const uint8_t* blk) {
    __m256i bad = _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k) {
      const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kCodes + 32 * k));
      const __m256i exp0 =
          _mm256_cmpeq_epi8(_mm256_and_si256(c, _mm256_set1_epi8(0x78)), _mm256_setzero_si256());
      const __m256i nan = _mm256_cmpeq_epi8(
          _mm256_or_si256(c, _mm256_set1_epi8(static_cast<char>(0x80))), _mm256_set1_epi8(-1));
      bad = _mm256_or_si256(bad, _mm256_or_si256(exp0, nan));
    }
    return _mm256_testz_si256(bad, bad);
  }
  static float scale(const uint8_t* blk, const float*) { return Q8K::scale(blk, nullptr); }
  static float bias(const uint8_t*) { return 0.f; }
  static int64_t load_u64(const uint8_t* q) {
    int64_t v;
    std::memcpy(&v, q, 8);
    return v;
  }
};

// Weight rows per pass, from as many stripes (row_stripes.h): fewer at larger m, whose
// accumulators must fit the 16 ymm registers.
constexpr int rows_per_pass(int m) {
  return m == 1 ? 4 : m == 2 ? 2 : 1;
}

// Block b of R rows (at blk[j]) through the registry-exact AVX2 block decoder, dotted with x.
template <int M, int R, class B>
void slow_blocks(const QuantProblem& p, const uint8_t* const (&blk)[R], int64_t b,
                 __m256 (&acc)[R][M]) {
  alignas(32) float w[B::kCols];
  const DequantBlocksFn dequant = avx2_dequantizer(p.type);
  for (int j = 0; j < R; ++j) {
    dequant(blk[j], 0, 1, w);
    for (int i = 0; i < M; ++i)
      for (int64_t c = 0; c < B::kCols; c += 8)
        acc[j][i] = _mm256_fmadd_ps(
            _mm256_load_ps(w + c), _mm256_loadu_ps(p.x + i * p.cols + b * B::kCols + c), acc[j][i]);
  }
}

// Rows r + j * rs (j < R: R stripes of the thread's chunk, R DRAM streams, each prefetched
// kPrefetchAheadBytes ahead), block by block; within a block 8 columns at a time, the
// activation vectors loaded once for all R rows, each row's products into kChains alternating
// partial sums. Rows inside the column loop keep R * kChains independent FMA chains: with the
// rows outside it (rows_by_block's order) a q8k block was two chains of 16 dependent FMAs per
// row, and tg32 q8k only 1.15x the buffered path.
template <int M, int R, class B>
void rows_q8(const QuantProblem& p, int64_t r, int64_t rs) {
  constexpr int kChains = R * M <= 4 ? 2 : 1;
  const float* f8 = fp8::f8q8_block_scales().data();
  const int64_t nb = p.cols / B::kCols;
  const uint8_t* row[R];
  __m256 acc[R][M];
#pragma GCC unroll 4
  for (int j = 0; j < R; ++j) {
    row[j] = p.w + static_cast<size_t>(r + j * rs) * p.row_bytes;
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) acc[j][i] = _mm256_setzero_ps();
  }
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk[R];
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) {
      blk[j] = row[j] + B::kBytes * b;
      // Past a row's end: the next row of its stripe, which follows in memory.
      for (int64_t off = 0; off < B::kBytes; off += 64)
        _mm_prefetch(reinterpret_cast<const char*>(blk[j] + kPrefetchAheadBytes + off),
                     _MM_HINT_T0);
    }
    bool normal = true;
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) normal = normal && B::all_normal(blk[j]);
    if (__builtin_expect(!normal, 0)) {  // fp8 zeros, subnormals or NaN: the exact decoder
      slow_blocks<M, R, B>(p, blk, b, acc);
      continue;
    }
    __m256 part[R][M][kChains];
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j)
#pragma GCC unroll 4
      for (int i = 0; i < M; ++i)
#pragma GCC unroll 2
        for (int k = 0; k < kChains; ++k) part[j][i][k] = _mm256_setzero_ps();
    const float* x = p.x + b * B::kCols;
    __m256 xsum[M];  // the block's sum of x per activation row (kBias)
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) xsum[i] = _mm256_setzero_ps();
#pragma GCC unroll 4
    for (int64_t c = 0; c < B::kCols; c += 8) {
      const int k = static_cast<int>(c / 8 % kChains);
      __m256 xv[M];
#pragma GCC unroll 4
      for (int i = 0; i < M; ++i) {
        xv[i] = _mm256_loadu_ps(x + i * p.cols + c);
        if constexpr (B::kBias) xsum[i] = _mm256_add_ps(xsum[i], xv[i]);
      }
#pragma GCC unroll 4
      for (int j = 0; j < R; ++j) {
        const __m256 w = B::codes8(blk[j] + B::kCodes + c);
#pragma GCC unroll 4
        for (int i = 0; i < M; ++i) part[j][i][k] = _mm256_fmadd_ps(w, xv[i], part[j][i][k]);
      }
    }
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) {
      // The code factor comes out of the block sum, not d (d / 256 could round).
      const __m256 d = _mm256_set1_ps(B::scale(blk[j], f8));
      const __m256 unfactor = _mm256_set1_ps(1.f / B::kCodeFactor);
#pragma GCC unroll 4
      for (int i = 0; i < M; ++i) {
        const __m256 sum =
            kChains == 2 ? _mm256_add_ps(part[j][i][0], part[j][i][kChains - 1]) : part[j][i][0];
        acc[j][i] = _mm256_fmadd_ps(B::kCodeFactor == 1.f ? sum : _mm256_mul_ps(sum, unfactor), d,
                                    acc[j][i]);
        if constexpr (B::kBias)
          acc[j][i] = _mm256_fmadd_ps(xsum[i], _mm256_set1_ps(B::bias(blk[j])), acc[j][i]);
      }
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < R; ++j)
#pragma GCC unroll 4
    for (int i = 0; i < M; ++i) p.y[i * p.rows + r + j * rs] = hsum8(acc[j][i]);
}

template <int M, class B>
void gemv_m(const QuantProblem& p, int64_t r0, int64_t r1) {
  for_each_row_stripe_block<rows_per_pass(M)>(
      r0, r1,
      [&](int64_t r, int64_t rs, int64_t, int) { rows_q8<M, rows_per_pass(M), B>(p, r, rs); },
      [&](int64_t r, int64_t, int64_t, int) { rows_q8<M, 1, B>(p, r, 1); });
}

template <class B>
void gemv_type(const QuantProblem& p, int64_t r0, int64_t r1) {
  for_each_activation_group(
      p, [&](auto m, const QuantProblem& q) { gemv_m<decltype(m)::value, B>(q, r0, r1); });
}

}  // namespace

bool quant_gemv_q8_supported(QuantType type) {
  return type == QuantType::kQ8_0 || type == QuantType::kQ8_1 || type == QuantType::kQ8K ||
         type == QuantType::kF8Q8 || type == QuantType::kAfq8 || type == QuantType::kHqq8 ||
         type == QuantType::kFp8;
}

void quant_gemv_q8(const QuantProblem& p, int64_t r0, int64_t r1) {
  switch (p.type) {
    case QuantType::kQ8_0: return gemv_type<Q8_0>(p, r0, r1);
    case QuantType::kQ8_1: return gemv_type<Q8_1>(p, r0, r1);
    case QuantType::kQ8K: return gemv_type<Q8K>(p, r0, r1);
    case QuantType::kAfq8: return gemv_type<Afq8>(p, r0, r1);
    case QuantType::kHqq8: return gemv_type<Hqq8>(p, r0, r1);
    case QuantType::kFp8: return gemv_type<Fp8>(p, r0, r1);
    default: return gemv_type<F8Q8>(p, r0, r1);
  }
}

}  // namespace insitu::kernels::avx2

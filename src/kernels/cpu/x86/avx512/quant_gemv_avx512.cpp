// AVX-512 VNNI GEMV for quantized weights (decode, m <= 4) and the AVX-512 kernel table.
//
// Each weight row is decoded once (quant_decode_avx512.h) into u8 codes plus one (scale,
// offset) pair per 16 elements, in an L1-resident buffer, then dotted with every activation
// row. The integer part runs on vpdpbusd (u8 code x s8 activation digit, 64 MACs/instruction):
//  * activations are prepared once per call: each 4-element lane (one vpdpbusd accumulator)
//    gets its own scale sx = max|x| / T and the integer xq = round(x / sx), |xq| <= T, is split
//    into kParts balanced signed base-256 digits, xq = sum_p digit_p * 256^(kParts-1-p);
//  * per 64 codes: acc = dpbusd(digit_0) << 8 + dpbusd(digit_1) (exact in int32), the 3rd
//    digit's dot is added in f32, then acc * (weight scale * sx) is accumulated in f32;
//  * a type's integer zero point (the +128 of int8 levels, the 8 of q4_0, ...) is removed in
//    the int32 accumulators (they start from -zero * digit sums, prepared with x), so the
//    signed levels are exact and a zero weight row gives exactly 0;
//  * offsets (per-block minimums / zero points) are applied once per 16 elements as
//    offset * sum(x~), where x~ = xq * sx is the activation the codes were multiplied by, so the
//    activation rounding error multiplies the true weights, never biased codes.
// With kParts = 3, T = 8.29e6 (23 bits): |x - x~| <= 6e-8 max|lane|, i.e. the result is
// f32-grade. Measured errors per type: tests/kernels/quant_matmul_test.cpp.
// fp8 (values not affine in a code) decodes to f32 and uses an FMA dot.
#include <cstring>

#include "kernels/cpu/x86/avx512/quant_avx512_kernels.h"
#include "kernels/cpu/x86/avx512/quant_decode_avx512.h"
#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels::avx512 {
namespace {

constexpr int kParts = 3;
constexpr int64_t kPrefetchRows = 2;
// Largest |xq|: the top digit must stay in [-127, 127] after balanced carries.
constexpr float kXMax = kParts == 3 ? 8290000.f : 32384.f;

inline int64_t round_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

// Prepared activation row layout (all offsets multiples of 64 bytes):
//   digits [K64 / 64][kParts][64] int8 | lane scales [K64 / 4] f32 | group sums [G16] f32 |
//   zero-point corrections [K64 / 64][2][16] int32
// K64 = cols rounded up to 64 (padding is zero), G16 = K64 / 16 rounded up to 16. The
// corrections are -zero * (256 * S0 + S1) and -zero * S2 per lane, S_p the lane's digit sums,
// so that sum (code - zero) * xq stays in exact integers.
struct PrepLayout {
  int64_t k64, groups, sx_off, sum_off, zc_off, stride;
  explicit PrepLayout(int64_t cols) {
    k64 = round_up(cols, 64);
    groups = round_up(k64 / 16, 16);
    sx_off = kParts * k64;
    sum_off = sx_off + k64;  // k64 / 4 floats
    zc_off = round_up(sum_off + groups * 4, 64);
    stride = zc_off + 2 * k64;  // k64 / 64 chunks of 128 bytes
  }
};

// Balanced signed low byte of each int32 lane (in [-128, 127]) and the remaining high part.
inline __m512i low_digit(__m512i v) {
  return _mm512_sub_epi32(
      _mm512_and_si512(_mm512_add_epi32(v, _mm512_set1_epi32(128)), _mm512_set1_epi32(255)),
      _mm512_set1_epi32(128));
}

// Sum of each 4-element lane of v, broadcast within the lane.
inline __m512i lane_sums(__m512i v) {
  v = _mm512_add_epi32(v, _mm512_shuffle_epi32(v, _MM_PERM_CDAB));
  return _mm512_add_epi32(v, _mm512_shuffle_epi32(v, _MM_PERM_BADC));
}

void prepare_row(const float* x, int64_t cols, int zero, uint8_t* out) {
  const PrepLayout L(cols);
  auto* digits = reinterpret_cast<int8_t*>(out);
  auto* sx = reinterpret_cast<float*>(out + L.sx_off);
  auto* sums = reinterpret_cast<float*>(out + L.sum_off);
  auto* zc = reinterpret_cast<int32_t*>(out + L.zc_off);
  std::memset(sums, 0, L.groups * 4);
  const __m512 inv_max = _mm512_set1_ps(1.f / kXMax);
  const __m512i negz = _mm512_set1_epi32(-zero);
  for (int64_t c = 0; c < L.k64; c += 16) {
    const __m512 v = _mm512_maskz_loadu_ps(tail_mask16(cols - c > 0 ? cols - c : 0), x + c);
    // Max |x| over each 4-element lane, broadcast within the lane.
    __m512 a = _mm512_abs_ps(v);
    a = _mm512_max_ps(a, _mm512_permute_ps(a, 0xB1));
    a = _mm512_max_ps(a, _mm512_permute_ps(a, 0x4E));
    const __m512 s = _mm512_mul_ps(a, inv_max);
    const __mmask16 nz = _mm512_cmp_ps_mask(s, _mm512_setzero_ps(), _CMP_GT_OQ);
    const __m512i q = _mm512_cvtps_epi32(_mm512_maskz_div_ps(nz, v, s));
    // Digits, least significant first; each step divides exactly by 256.
    __m512i d[kParts];
    __m512i rest = q;
    for (int p = kParts - 1; p >= 0; --p) {
      d[p] = p == 0 ? rest : low_digit(rest);
      rest = _mm512_srai_epi32(_mm512_sub_epi32(rest, d[p]), 8);
    }
    const int64_t chunk = c / 64, sub = c % 64;
    for (int p = 0; p < kParts; ++p)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(digits + (chunk * kParts + p) * 64 + sub),
                       _mm512_cvtepi32_epi8(d[p]));
    _mm_storeu_ps(sx + c / 4, _mm512_castps512_ps128(_mm512_maskz_compress_ps(0x1111, s)));
    sums[c / 16] = _mm512_reduce_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(q), s));
    // Zero-point corrections of the two integer accumulators (see dot_codes).
    const __m512i s01 = _mm512_add_epi32(_mm512_slli_epi32(lane_sums(d[0]), 8), lane_sums(d[1]));
    const __m512i s2 = kParts == 3 ? lane_sums(d[kParts - 1]) : _mm512_setzero_si512();
    int32_t* zl = zc + chunk * 32 + sub / 4;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(zl), _mm512_castsi512_si128(_mm512_maskz_compress_epi32(
                         0x1111, _mm512_mullo_epi32(s01, negz))));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(zl + 16), _mm512_castsi512_si128(_mm512_maskz_compress_epi32(
                         0x1111, _mm512_mullo_epi32(s2, negz))));
  }
}

// y[i, r] for one decoded row: codes . x~_i * scale + offsets . sums_i.
// With kZero, the integer accumulators start from the zero-point corrections, so they hold
// sum (code - zero) * xq exactly.
template <int M, bool kZero>
inline void dot_codes(const uint8_t* codes, const float* scale, const float* offset,
                      const uint8_t* const* prep, const PrepLayout& L, float* out) {
  const __m512i rep4 = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
  __m512 acc[M];
  #pragma GCC unroll 4
  for (int i = 0; i < M; ++i) acc[i] = _mm512_setzero_ps();
  const int64_t nchunks = L.k64 / 64;
  for (int64_t c = 0; c < nchunks; ++c) {
    const __m512i cv = _mm512_load_si512(codes + 64 * c);
    const __m512 ws = _mm512_permutexvar_ps(rep4, _mm512_castps128_ps512(_mm_load_ps(scale + 4 * c)));
    #pragma GCC unroll 4
    for (int i = 0; i < M; ++i) {
      const int8_t* xd = reinterpret_cast<const int8_t*>(prep[i]) + c * kParts * 64;
      const int32_t* zc = reinterpret_cast<const int32_t*>(prep[i] + L.zc_off) + 32 * c;
      __m512i a = _mm512_dpbusd_epi32(_mm512_setzero_si512(), cv, _mm512_load_si512(xd));
      a = _mm512_slli_epi32(a, 8);
      a = _mm512_dpbusd_epi32(a, cv, _mm512_load_si512(xd + 64));
      if constexpr (kZero) a = _mm512_add_epi32(a, _mm512_load_si512(zc));
      __m512 f;
      if constexpr (kParts == 3) {
        const __m512i b0 = kZero ? _mm512_load_si512(zc + 16) : _mm512_setzero_si512();
        const __m512i b = _mm512_dpbusd_epi32(b0, cv, _mm512_load_si512(xd + 128));
        f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a), _mm512_set1_ps(256.f), _mm512_cvtepi32_ps(b));
      } else {
        f = _mm512_cvtepi32_ps(a);
      }
      const __m512 sx = _mm512_load_ps(reinterpret_cast<const float*>(prep[i] + L.sx_off) + 16 * c);
      acc[i] = _mm512_fmadd_ps(f, _mm512_mul_ps(ws, sx), acc[i]);
    }
  }
  __m512 oacc[M];
  #pragma GCC unroll 4
  for (int i = 0; i < M; ++i) oacc[i] = _mm512_setzero_ps();
  for (int64_t g = 0; g < L.groups; g += 16) {
    const __m512 off = _mm512_load_ps(offset + g);
    #pragma GCC unroll 4
    for (int i = 0; i < M; ++i)
      oacc[i] = _mm512_fmadd_ps(
          off, _mm512_load_ps(reinterpret_cast<const float*>(prep[i] + L.sum_off) + g), oacc[i]);
  }
  #pragma GCC unroll 4
  for (int i = 0; i < M; ++i) out[i] = _mm512_reduce_add_ps(_mm512_add_ps(acc[i], oacc[i]));
}

// Scratch layout for the code path: codes [K64] | scale [G16] | offset [G16]; fp8: f32 [cols].
template <int M>
void gemv_codes(const QuantProblem& p, const QuantDecoder& dec, int64_t r0, int64_t r1,
                uint8_t* scratch) {
  const PrepLayout L(p.cols);
  uint8_t* codes = scratch;
  auto* scale = reinterpret_cast<float*>(scratch + L.k64);
  float* offset = scale + L.groups;
  // Padding past cols stays zero: the decoder writes only [0, cols).
  std::memset(codes + p.cols, 0, L.k64 - p.cols);
  std::memset(scale, 0, 2 * L.groups * sizeof(float));
  const uint8_t* prep[M];
  for (int i = 0; i < M; ++i) prep[i] = static_cast<const uint8_t*>(p.xprep) + i * L.stride;
  const int64_t nb = p.cols / dec.block;
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = p.w + static_cast<size_t>(r) * p.row_bytes;
    // Software prefetch kPrefetchRows rows ahead: one row per thread is a single sequential
    // stream, which the hardware prefetcher alone does not keep deep enough to saturate DRAM.
    if (r + kPrefetchRows < r1) {
      const uint8_t* ahead = row + kPrefetchRows * p.row_bytes;
      for (size_t b = 0; b < p.row_bytes; b += 64)
        _mm_prefetch(reinterpret_cast<const char*>(ahead + b), _MM_HINT_T0);
    }
    dec.codes(row, 0, nb, codes, scale, offset);
    float out[M];
    if (dec.zero != 0)
      dot_codes<M, true>(codes, scale, offset, prep, L, out);
    else
      dot_codes<M, false>(codes, scale, offset, prep, L, out);
    for (int i = 0; i < M; ++i) p.y[i * p.rows + r] = out[i];
  }
}

template <int M>
void gemv_values(const QuantProblem& p, const QuantDecoder& dec, int64_t r0, int64_t r1,
                 float* buf) {
  const int64_t K = p.cols, nb = K / dec.block;
  for (int64_t r = r0; r < r1; ++r) {
    dec.values(p.w + static_cast<size_t>(r) * p.row_bytes, 0, nb, buf);
    __m512 acc[M];
    for (int i = 0; i < M; ++i) acc[i] = _mm512_setzero_ps();
    for (int64_t c = 0; c < K; c += 16) {  // K is a multiple of the block (>= 32)
      const __m512 w = _mm512_load_ps(buf + c);
      for (int i = 0; i < M; ++i)
        acc[i] = _mm512_fmadd_ps(w, _mm512_loadu_ps(p.x + i * K + c), acc[i]);
    }
    for (int i = 0; i < M; ++i) p.y[i * p.rows + r] = _mm512_reduce_add_ps(acc[i]);
  }
}

template <int M>
void gemv_m(const QuantProblem& p, const QuantDecoder& dec, int64_t r0, int64_t r1,
            uint8_t* scratch) {
  if (dec.codes)
    gemv_codes<M>(p, dec, r0, r1, scratch);
  else
    gemv_values<M>(p, dec, r0, r1, reinterpret_cast<float*>(scratch));
}

}  // namespace

size_t quant_gemv_prep_bytes(int64_t m, int64_t cols) {
  return static_cast<size_t>(m) * PrepLayout(cols).stride;
}

void quant_gemv_prepare_x(QuantType type, const float* x, int64_t m, int64_t cols, int64_t i0,
                          int64_t i1, void* out) {
  (void)m;
  const PrepLayout L(cols);
  const int zero = quant_decoder(type).zero;
  for (int64_t i = i0; i < i1; ++i)
    prepare_row(x + i * cols, cols, zero, static_cast<uint8_t*>(out) + i * L.stride);
}

size_t quant_gemv_scratch_bytes(QuantType, int64_t cols, int64_t) {
  const PrepLayout L(cols);
  const size_t codes = L.k64 + 2 * L.groups * sizeof(float);
  const size_t values = static_cast<size_t>(cols) * sizeof(float);
  return codes > values ? codes : values;
}

void quant_gemv(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  const QuantDecoder& dec = quant_decoder(p.type);
  auto* s = static_cast<uint8_t*>(scratch);
  const PrepLayout L(p.cols);
  QuantProblem q = p;
  // Groups of up to 4 activation rows (the dispatcher sends at most 4; any m is correct).
  for (int64_t i0 = 0; i0 < p.m; i0 += 4) {
    q.x = p.x + i0 * p.cols;
    q.y = p.y + i0 * p.rows;
    q.xprep = static_cast<const uint8_t*>(p.xprep) + i0 * L.stride;
    switch (p.m - i0 < 4 ? p.m - i0 : 4) {
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
    {quant_gemv, 16, quant_gemv_scratch_bytes, quant_gemv_prep_bytes, quant_gemv_prepare_x},
    {quant_gemm, kQuantGemmRowGrain, quant_gemm_scratch_bytes, nullptr, nullptr},
};
}  // namespace

}  // namespace insitu::kernels::avx512

namespace insitu::kernels {
const QuantKernelSet& quant_kernels_avx512() { return avx512::kAvx512Set; }
}  // namespace insitu::kernels

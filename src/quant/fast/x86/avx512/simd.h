// Lane-exact AVX-512 building blocks for the fast quantizers: each of the 16 lanes performs the
// same IEEE single-precision operations, in the same order, as one instance of the scalar
// reference code (quant/ggml). Only for translation units under x86/avx512/, which the quant
// room compiles with -ffp-contract=off (cmake/rooms.cmake) so that no mul+add pair (vector or
// scalar) is fused into an FMA the reference does not have.
//
// Comparisons use the ordered/unordered predicate that matches the C operator (a != b is true
// for NaN, every other operator false), and selects are blends, never min/max instructions,
// whose NaN and signed-zero rules differ from the C ternaries of the reference.
#pragma once

#include <immintrin.h>

// GCC 12's AVX-512 intrinsics seed their pass-through operands with a self-initialised
// "undefined" vector, which -Wuninitialized reports wherever they are inlined (GCC PR105593,
// fixed in GCC 13). The warning says nothing about this code.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <cstdint>

namespace insitu::fastq::avx512 {

using V = __m512;
using VI = __m512i;
using M = __mmask16;

inline V splat(float v) {
  return _mm512_set1_ps(v);
}
inline VI splati(int32_t v) {
  return _mm512_set1_epi32(v);
}
inline V vzero() {
  return _mm512_setzero_ps();
}

inline V add(V a, V b) {
  return _mm512_add_ps(a, b);
}
inline V sub(V a, V b) {
  return _mm512_sub_ps(a, b);
}
inline V mul(V a, V b) {
  return _mm512_mul_ps(a, b);
}
inline V div(V a, V b) {
  return _mm512_div_ps(a, b);
}
inline V vsqrt(V a) {
  return _mm512_sqrt_ps(a);
}
inline V vabs(V a) {
  return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), splati(0x7fffffff)));
}
inline V neg(V a) {
  return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), splati(INT32_MIN)));
}

inline M lt(V a, V b) {
  return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ);
}
inline M le(V a, V b) {
  return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ);
}
inline M gt(V a, V b) {
  return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ);
}
inline M eq(V a, V b) {
  return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ);
}
inline M ne(V a, V b) {
  return _mm512_cmp_ps_mask(a, b, _CMP_NEQ_UQ);
}
// cond ? b : a, per lane.
inline V select(M cond, V a, V b) {
  return _mm512_mask_blend_ps(cond, a, b);
}
inline VI selecti(M cond, VI a, VI b) {
  return _mm512_mask_blend_epi32(cond, a, b);
}

// quant/ggml nearest_int(): v + 1.5 * 2^23, then the low mantissa bits (round half to even for
// |v| <= 2^22; the same bits as the scalar trick for every other input too).
inline VI nearest_int(V v) {
  const VI bits = _mm512_castps_si512(add(v, splat(12582912.f)));
  return _mm512_sub_epi32(_mm512_and_si512(bits, splati(0x007fffff)), splati(0x00400000));
}
inline VI clampi(VI v, int lo, int hi) {
  return _mm512_max_epi32(splati(lo), _mm512_min_epi32(splati(hi), v));
}
inline V to_float(VI v) {
  return _mm512_cvtepi32_ps(v);
}
// quant/ggml/trunc.h trunc_to_i32(): cvttps2dq gives INT32_MIN for NaN, inf and overflow.
inline VI trunc_i32(V v) {
  return _mm512_cvttps_epi32(v);
}
// (int8_t) of such an int32: the low byte, sign-extended.
inline VI low_byte_i8(VI v) {
  return _mm512_srai_epi32(_mm512_slli_epi32(v, 24), 24);
}
// std::round: half away from zero. x - trunc(x) is exact, so the test is exact.
inline V round_half_away(V v) {
  const V t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const M up = _mm512_cmp_ps_mask(vabs(sub(v, t)), splat(0.5f), _CMP_GE_OQ);
  const V one = _mm512_castsi512_ps(
      _mm512_or_si512(_mm512_and_si512(_mm512_castps_si512(v), splati(INT32_MIN)),
                      _mm512_castps_si512(splat(1.f))));
  return _mm512_mask_add_ps(t, up, t, one);
}

// Levels kept as floats (small integers, exact) so the error loops need no conversion.
inline V level(V iscale_times_x, int lo, int hi) {
  return to_float(clampi(nearest_int(iscale_times_x), lo, hi));
}

// level() for lanes where |v| < 2^21 is known: then v + 1.5 * 2^23 lies in [2^23, 2^24), whose
// ulp is 1, so subtracting the constant back gives nearest_int()'s integer exactly (the bit
// trick itself goes wrong only from |v| >= 2^22), and clamping commutes with the conversion.
inline V level_small(V v, V lo, V hi) {
  const V magic = splat(12582912.f);
  return _mm512_min_ps(_mm512_max_ps(sub(add(v, magic), magic), lo), hi);
}
inline constexpr float kLevelSmallBound = 2097152.f;  // 2^21
inline M ordered(V v) {
  return _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);
}
inline M unordered(V v) {
  return _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
}

// In-register transpose of a 16x16 float matrix: row j (16 floats at src + j * stride, zero
// for j >= rows) becomes lane j of dst[0..15]. 64 shuffles, far cheaper than 16 gathers.
inline void transpose16(const float* src, int stride, int rows, V* dst) {
  V r[16], t[16];
  for (int j = 0; j < 16; ++j) r[j] = j < rows ? _mm512_loadu_ps(src + j * stride) : vzero();
  for (int k = 0; k < 16; k += 2) {  // [r_k[4L], r_k+1[4L], r_k[4L+1], r_k+1[4L+1]] per 128 bits
    t[k] = _mm512_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm512_unpackhi_ps(r[k], r[k + 1]);
  }
  // u[4g + c], 128-bit lane L: rows 4g..4g+3 of column 4L + c.
  V u[16];
  for (int g = 0; g < 4; ++g) {
    const __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 2]);
    const __m512d c = _mm512_castps_pd(t[4 * g + 1]), d = _mm512_castps_pd(t[4 * g + 3]);
    u[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
    u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
    u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
  }
  // 4x4 transpose of 128-bit blocks for each c.
  for (int c = 0; c < 4; ++c) {
    const V v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44);
    const V v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
    const V v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
    const V v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
    dst[c] = _mm512_shuffle_f32x4(v0, v2, 0x88);
    dst[4 + c] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
    dst[8 + c] = _mm512_shuffle_f32x4(v1, v3, 0x88);
    dst[12 + c] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
  }
}

// One sub-block per lane: dst[i] lane j = base[j * n + i] for i < n (n = 16 or 32); lanes at
// or past `lanes` read as 0.
inline void load_lanes(const float* base, int n, int lanes, V* dst) {
  for (int c = 0; c < n; c += 16) transpose16(base + c, n, lanes, dst + c);
}

namespace detail {
// vpermt2b indices of a 16x16 byte transpose (see transpose_bytes16).
struct ByteTransposeIdx {
  alignas(64) uint8_t step1_lo[64], step1_hi[64], step2_a[64], step2_b[64];
  constexpr ByteTransposeIdx() : step1_lo(), step1_hi(), step2_a(), step2_b() {
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 8; ++j) {
        const int src = i < 4 ? 16 * i + j : 64 + 16 * (i - 4) + j;
        step1_lo[8 * i + j] = static_cast<uint8_t>(src);
        step1_hi[8 * i + j] = static_cast<uint8_t>(src + 8);
      }
    for (int jj = 0; jj < 4; ++jj)
      for (int i = 0; i < 16; ++i) {
        const int src = i < 8 ? 8 * i : 64 + 8 * (i - 8);
        step2_a[16 * jj + i] = static_cast<uint8_t>(src + jj);
        step2_b[16 * jj + i] = static_cast<uint8_t>(src + 4 + jj);
      }
  }
};
inline constexpr ByteTransposeIdx kByteTransposeIdx{};
}  // namespace detail

// 16x16 byte transpose: in[16 * i + j] -> out[16 * j + i] (256 bytes each). The 8x8 quarters
// are gathered first (P: rows 0-7, Q: rows 8-15; lo: columns 0-7, hi: 8-15), then each output
// quarter (4 rows of 16) takes its bytes from one P and one Q quarter.
inline void transpose_bytes16(const uint8_t* in, VI* out) {
  const auto& ix = detail::kByteTransposeIdx;
  const VI a0 = _mm512_loadu_si512(in), a1 = _mm512_loadu_si512(in + 64);
  const VI a2 = _mm512_loadu_si512(in + 128), a3 = _mm512_loadu_si512(in + 192);
  const VI i1lo = _mm512_load_si512(ix.step1_lo), i1hi = _mm512_load_si512(ix.step1_hi);
  const VI i2a = _mm512_load_si512(ix.step2_a), i2b = _mm512_load_si512(ix.step2_b);
  const VI p_lo = _mm512_permutex2var_epi8(a0, i1lo, a1),
           p_hi = _mm512_permutex2var_epi8(a0, i1hi, a1);
  const VI q_lo = _mm512_permutex2var_epi8(a2, i1lo, a3),
           q_hi = _mm512_permutex2var_epi8(a2, i1hi, a3);
  out[0] = _mm512_permutex2var_epi8(p_lo, i2a, q_lo);
  out[1] = _mm512_permutex2var_epi8(p_lo, i2b, q_lo);
  out[2] = _mm512_permutex2var_epi8(p_hi, i2a, q_hi);
  out[3] = _mm512_permutex2var_epi8(p_hi, i2b, q_hi);
}

// Writes levels back in element order: out[j * n + i] = low byte of (int)L[i] lane j, for
// n = 16 or 32 and the first `lanes` lanes.
inline void scatter_levels(const V* L, int n, int lanes, uint8_t* out) {
  alignas(64) uint8_t t[32 * 16];
  for (int i = 0; i < n; ++i)
    _mm_store_si128(reinterpret_cast<__m128i*>(t + 16 * i),
                    _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(L[i])));
  alignas(64) uint8_t full[32 * 16];
  uint8_t* dst = lanes == 16 ? out : full;
  VI b0[4];
  transpose_bytes16(t, b0);
  if (n == 16) {
    for (int k = 0; k < 4; ++k) _mm512_storeu_si512(dst + 64 * k, b0[k]);
  } else {
    // Row j is 16 bytes from each half: interleave the 128-bit rows of the two transposes.
    VI b1[4];
    transpose_bytes16(t + 256, b1);
    const VI even = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
    const VI odd = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
    for (int k = 0; k < 4; ++k) {
      _mm512_storeu_si512(dst + 128 * k, _mm512_permutex2var_epi64(b0[k], even, b1[k]));
      _mm512_storeu_si512(dst + 128 * k + 64, _mm512_permutex2var_epi64(b0[k], odd, b1[k]));
    }
  }
  if (dst != out)
    for (int b = 0; b < lanes * n; ++b) out[b] = full[b];
}

inline void store(float* p, V v) {
  _mm512_storeu_ps(p, v);
}

}  // namespace insitu::fastq::avx512

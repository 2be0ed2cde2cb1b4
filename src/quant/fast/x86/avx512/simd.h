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

inline V splat(float v) { return _mm512_set1_ps(v); }
inline VI splati(int32_t v) { return _mm512_set1_epi32(v); }
inline V vzero() { return _mm512_setzero_ps(); }

inline V add(V a, V b) { return _mm512_add_ps(a, b); }
inline V sub(V a, V b) { return _mm512_sub_ps(a, b); }
inline V mul(V a, V b) { return _mm512_mul_ps(a, b); }
inline V div(V a, V b) { return _mm512_div_ps(a, b); }
inline V vsqrt(V a) { return _mm512_sqrt_ps(a); }
inline V vabs(V a) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), splati(0x7fffffff))); }
inline V neg(V a) { return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), splati(INT32_MIN))); }

inline M lt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
inline M le(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
inline M gt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
inline M eq(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
inline M ne(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_NEQ_UQ); }
// cond ? b : a, per lane.
inline V select(M cond, V a, V b) { return _mm512_mask_blend_ps(cond, a, b); }
inline VI selecti(M cond, VI a, VI b) { return _mm512_mask_blend_epi32(cond, a, b); }

// quant/ggml nearest_int(): v + 1.5 * 2^23, then the low mantissa bits (round half to even for
// |v| <= 2^22; the same bits as the scalar trick for every other input too).
inline VI nearest_int(V v) {
  const VI bits = _mm512_castps_si512(add(v, splat(12582912.f)));
  return _mm512_sub_epi32(_mm512_and_si512(bits, splati(0x007fffff)), splati(0x00400000));
}
inline VI clampi(VI v, int lo, int hi) {
  return _mm512_max_epi32(splati(lo), _mm512_min_epi32(splati(hi), v));
}
inline V to_float(VI v) { return _mm512_cvtepi32_ps(v); }
// quant/ggml/trunc.h trunc_to_i32(): cvttps2dq gives INT32_MIN for NaN, inf and overflow.
inline VI trunc_i32(V v) { return _mm512_cvttps_epi32(v); }
// (int8_t) of such an int32: the low byte, sign-extended.
inline VI low_byte_i8(VI v) { return _mm512_srai_epi32(_mm512_slli_epi32(v, 24), 24); }
// std::round: half away from zero. x - trunc(x) is exact, so the test is exact.
inline V round_half_away(V v) {
  const V t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const M up = _mm512_cmp_ps_mask(vabs(sub(v, t)), splat(0.5f), _CMP_GE_OQ);
  const V one = _mm512_castsi512_ps(_mm512_or_si512(
      _mm512_and_si512(_mm512_castps_si512(v), splati(INT32_MIN)), _mm512_castps_si512(splat(1.f))));
  return _mm512_mask_add_ps(t, up, t, one);
}

// Levels kept as floats (small integers, exact) so the error loops need no conversion.
inline V level(V iscale_times_x, int lo, int hi) {
  return to_float(clampi(nearest_int(iscale_times_x), lo, hi));
}

// Loads element i of 16 equally spaced runs: lane j gets base[j * stride + i] (lanes at or past
// `lanes` get 0). This is the transpose that puts one sub-block in each lane.
inline V gather_lanes(const float* base, int stride, int i, int lanes) {
  const VI idx = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8,
                                                                      7, 6, 5, 4, 3, 2, 1, 0),
                                                     splati(stride)),
                                  splati(i));
  const M m = static_cast<M>(lanes >= 16 ? 0xffff : (1u << lanes) - 1);
  return _mm512_mask_i32gather_ps(vzero(), m, idx, base, 4);
}

// Writes levels back in element order: out[j * n + i] = (uint8_t)L[i] lane j, for the first
// `lanes` lanes (levels are small non-negative or sign-carrying ints; the low byte is kept).
inline void scatter_levels(const V* L, int n, int lanes, uint8_t* out) {
  alignas(64) uint8_t t[32 * 16];
  for (int i = 0; i < n; ++i)
    _mm_store_si128(reinterpret_cast<__m128i*>(t + 16 * i), _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(L[i])));
  for (int j = 0; j < lanes; ++j)
    for (int i = 0; i < n; ++i) out[j * n + i] = t[16 * i + j];
}

inline void store(float* p, V v) { _mm512_storeu_ps(p, v); }

}  // namespace insitu::fastq::avx512

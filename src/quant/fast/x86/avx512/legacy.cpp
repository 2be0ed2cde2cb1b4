// ggml's 32-element types. Without importance the per-element work is a few operations, so a
// block's 32 elements sit in two vectors and the block maximum is a reduction; with importance
// (a scale search per block) 16 blocks run in the 16 lanes. Mirrors quant/ggml/legacy.cpp.
#include <cfloat>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "quant/fast/x86/avx512/kernels.h"
#include "quant/fast/x86/avx512/search.h"
#include "quant/ggml/blocks.h"
#include "quant/ggml/quant_math.h"

namespace insitu::fastq::avx512 {
namespace {

constexpr int kQK = 32;

// Index of the first element of the block (two vectors) that compares equal to v.
inline int first_equal(V x0, V x1, float v) {
  const uint32_t hits =
      static_cast<uint32_t>(eq(x0, splat(v))) | (static_cast<uint32_t>(eq(x1, splat(v))) << 16);
  return hits ? __builtin_ctz(hits) : -1;
}

inline V nan_to(V v, float r) {
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v, splat(r));
}

// The reference's signed_absmax32: the value of the first element of largest magnitude
// (0 if all are zero; NaN never wins). The maximum of the magnitudes is order independent once
// NaNs are zeroed, so a reduction finds it.
inline float signed_absmax32(const float* xb, V x0, V x1) {
  const V a0 = nan_to(vabs(x0), 0.f), a1 = nan_to(vabs(x1), 0.f);
  const float amax = _mm512_reduce_max_ps(_mm512_max_ps(a0, a1));
  if (!(amax > 0.f)) return 0.f;
  return xb[first_equal(a0, a1, amax)];
}

// min_max32: min starts at FLT_MAX and takes x only if x < min, so it ends at the first element
// equal (as floats compare: -0 == +0) to the smallest value below FLT_MAX; likewise the max.
inline void min_max32(const float* xb, V x0, V x1, float* min, float* max) {
  const float lo = _mm512_reduce_min_ps(_mm512_min_ps(nan_to(x0, INFINITY), nan_to(x1, INFINITY)));
  const float hi =
      _mm512_reduce_max_ps(_mm512_max_ps(nan_to(x0, -INFINITY), nan_to(x1, -INFINITY)));
  *min = lo < FLT_MAX ? xb[first_equal(x0, x1, lo)] : FLT_MAX;
  *max = hi > -FLT_MAX ? xb[first_equal(x0, x1, hi)] : -FLT_MAX;
}

// (uint8_t) of min(15 or 31, (int8_t)trunc(v)) as the reference computes its levels.
inline VI trunc_level(V v, int hi) {
  return _mm512_min_epi32(low_byte_i8(trunc_i32(v)), splati(hi));
}

inline __m128i pack_nibbles(VI lo, VI hi) {
  return _mm512_cvtepi32_epi8(
      _mm512_or_si512(_mm512_and_si512(lo, splati(0xff)),
                      _mm512_slli_epi32(_mm512_and_si512(hi, splati(0xff)), 4)));
}

// q5 packing of the low bytes of 32 levels: low nibbles as q4, bit 4 into qh (LE u32).
inline void pack_q5(VI l0, VI l1, uint8_t* qs, uint8_t* qh) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs),
                   _mm512_cvtepi32_epi8(
                       _mm512_or_si512(_mm512_and_si512(l0, splati(0x0f)),
                                       _mm512_slli_epi32(_mm512_and_si512(l1, splati(0x0f)), 4))));
  const uint32_t bits = static_cast<uint32_t>(_mm512_test_epi32_mask(l0, splati(0x10))) |
                        (static_cast<uint32_t>(_mm512_test_epi32_mask(l1, splati(0x10))) << 16);
  std::memcpy(qh, &bits, 4);
}

float row_sigma2(const float* x, int64_t n) {
  float sum_x2 = 0.f;
  for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
  return sum_x2 / static_cast<float>(n);
}

// Importance-weighted levels of up to 16 blocks, one per lane: symmetric (make_qx_quants) when
// kSym, else asymmetric (make_qkx3_quants). d (and m) per block; levels in element order.
template <bool kSym, int kNmax>
void imatrix_group(const float* x, const float* qw, float sigma2, int lanes, float* d, float* m,
                   uint8_t* L_out) {
  V xt[kQK], w[kQK], L[kQK];
  const V sig = splat(sigma2);
  load_lanes(x, kQK, lanes, xt);
  load_lanes(qw, kQK, lanes, w);
  for (int i = 0; i < kQK; ++i) w[i] = mul(w[i], vsqrt(add(sig, mul(xt[i], xt[i]))));
  if constexpr (kSym) {
    _mm512_storeu_ps(d, make_qx(kQK, kNmax, xt, w, L));
  } else {
    V the_min;
    _mm512_storeu_ps(d, make_qkx(kQK, kNmax, xt, w, L, &the_min, -0.9f, 0.05f, 36, false, true));
    _mm512_storeu_ps(m, neg(the_min));
  }
  scatter_levels(L, kQK, lanes, L_out);
}

// Runs imatrix_group over a row and hands each block's (d, m, levels) to emit(i, d, m, L).
template <bool kSym, int kNmax, typename Emit>
void imatrix_row(const float* x, int64_t n, const float* importance, Emit emit) {
  const float sigma2 = row_sigma2(x, n);
  const int64_t nb = n / kQK;
  alignas(64) float d[16], m[16];
  alignas(64) uint8_t L[16 * kQK];
  for (int64_t i = 0; i < nb; i += 16) {
    const int lanes = nb - i >= 16 ? 16 : static_cast<int>(nb - i);
    imatrix_group<kSym, kNmax>(x + i * kQK, importance + i * kQK, sigma2, lanes, d, m, L);
    for (int k = 0; k < lanes; ++k) emit(i + k, d[k], m[k], L + kQK * k);
  }
}

}  // namespace

void quantize_q4_0(const float* x, void* out, int64_t n, const float* importance) {
  auto* y = static_cast<ggml::BlockQ4_0*>(out);
  if (importance) {
    imatrix_row<true, 8>(x, n, importance, [y](int64_t i, float d, float, const uint8_t* L) {
      y[i].d = f32_to_f16(d);
      for (int j = 0; j < 16; ++j) y[i].qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
    });
    return;
  }
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    const V x0 = _mm512_loadu_ps(xb), x1 = _mm512_loadu_ps(xb + 16);
    const float d = signed_absmax32(xb, x0, x1) / -8;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[i].d = f32_to_f16(d);
    const V vid = splat(id), h = splat(8.5f);
    _mm_storeu_si128(
        reinterpret_cast<__m128i*>(y[i].qs),
        pack_nibbles(trunc_level(add(mul(x0, vid), h), 15), trunc_level(add(mul(x1, vid), h), 15)));
  }
}

void quantize_q4_1(const float* x, void* out, int64_t n, const float* importance) {
  auto* y = static_cast<ggml::BlockQ4_1*>(out);
  if (importance) {
    imatrix_row<false, 15>(x, n, importance, [y](int64_t i, float d, float m, const uint8_t* L) {
      y[i].d = f32_to_f16(d);
      y[i].m = f32_to_f16(m);
      for (int j = 0; j < 16; ++j) y[i].qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
    });
    return;
  }
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    const V x0 = _mm512_loadu_ps(xb), x1 = _mm512_loadu_ps(xb + 16);
    float min, max;
    min_max32(xb, x0, x1, &min, &max);
    const float d = (max - min) / 15;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[i].d = f32_to_f16(d);
    y[i].m = f32_to_f16(min);
    const V vid = splat(id), vmin = splat(min), h = splat(0.5f);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[i].qs),
                     pack_nibbles(trunc_level(add(mul(sub(x0, vmin), vid), h), 15),
                                  trunc_level(add(mul(sub(x1, vmin), vid), h), 15)));
  }
}

void quantize_q5_0(const float* x, void* out, int64_t n, const float* importance) {
  auto* y = static_cast<ggml::BlockQ5_0*>(out);
  if (importance) {
    imatrix_row<true, 16>(x, n, importance, [y](int64_t i, float d, float, const uint8_t* L) {
      y[i].d = f32_to_f16(d);
      const __m512i l = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(L)));
      const __m512i h =
          _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(L + 16)));
      pack_q5(l, h, y[i].qs, y[i].qh);
    });
    return;
  }
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    const V x0 = _mm512_loadu_ps(xb), x1 = _mm512_loadu_ps(xb + 16);
    const float d = signed_absmax32(xb, x0, x1) / -16;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[i].d = f32_to_f16(d);
    const V vid = splat(id), h = splat(16.5f);
    pack_q5(trunc_level(add(mul(x0, vid), h), 31), trunc_level(add(mul(x1, vid), h), 31), y[i].qs,
            y[i].qh);
  }
}

void quantize_q5_1(const float* x, void* out, int64_t n, const float* importance) {
  auto* y = static_cast<ggml::BlockQ5_1*>(out);
  if (importance) {
    imatrix_row<false, 31>(x, n, importance, [y](int64_t i, float d, float m, const uint8_t* L) {
      y[i].d = f32_to_f16(d);
      y[i].m = f32_to_f16(m);
      const __m512i l = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(L)));
      const __m512i h =
          _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(L + 16)));
      pack_q5(l, h, y[i].qs, y[i].qh);
    });
    return;
  }
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float* xb = x + i * kQK;
    const V x0 = _mm512_loadu_ps(xb), x1 = _mm512_loadu_ps(xb + 16);
    float min, max;
    min_max32(xb, x0, x1, &min, &max);
    const float d = (max - min) / 31;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[i].d = f32_to_f16(d);
    y[i].m = f32_to_f16(min);
    const V vid = splat(id), vmin = splat(min), h = splat(0.5f);
    // trunc_to_u8: no clamp, the low byte of the truncation.
    pack_q5(trunc_i32(add(mul(sub(x0, vmin), vid), h)), trunc_i32(add(mul(sub(x1, vmin), vid), h)),
            y[i].qs, y[i].qh);
  }
}

namespace {
// q8_0 / q8_1 weight quantizers: d = amax / 127, levels trunc_to_i8(round(x / d)).
inline float q8_block(const float* xb, int8_t* qs, int* sum) {
  const V x0 = _mm512_loadu_ps(xb), x1 = _mm512_loadu_ps(xb + 16);
  const float amax =
      _mm512_reduce_max_ps(_mm512_max_ps(nan_to(vabs(x0), 0.f), nan_to(vabs(x1), 0.f)));
  const float d = amax / 127;
  const float id = d != 0.f ? 1.f / d : 0.f;
  const V vid = splat(id);
  const VI q0 = low_byte_i8(trunc_i32(round_half_away(mul(x0, vid))));
  const VI q1 = low_byte_i8(trunc_i32(round_half_away(mul(x1, vid))));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs), _mm512_cvtepi32_epi8(q0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 16), _mm512_cvtepi32_epi8(q1));
  if (sum) *sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
  return d;
}
}  // namespace

void quantize_q8_0(const float* x, void* out, int64_t n, const float* /*importance*/) {
  auto* y = static_cast<ggml::BlockQ8_0*>(out);
  for (int64_t i = 0; i < n / kQK; ++i)
    y[i].d = f32_to_f16(q8_block(x + i * kQK, y[i].qs, nullptr));
}

void quantize_q8_1(const float* x, void* out, int64_t n, const float* /*importance*/) {
  auto* y = static_cast<ggml::BlockQ8_1*>(out);
  for (int64_t i = 0; i < n / kQK; ++i) {
    int sum;
    const float d = q8_block(x + i * kQK, y[i].qs, &sum);
    y[i].d = f32_to_f16(d);
    y[i].s = f32_to_f16(static_cast<float>(sum) * d);
  }
}

}  // namespace insitu::fastq::avx512

// FP8 (blocks of 128, f32 scale) and F8Q8 (blocks of 32 int8, e4m3 scale) row quantizers
// (quant/fp8/fp8.cpp). A block's maximum of |x| is a reduction (order independent once NaNs are
// zeroed; the reference's std::max chain from 0 never takes a NaN); the scales are the
// reference's scalar expressions; the per-element work runs 16 lanes at a time.
//
// f32 -> e4m3 (fp8::f32_to_e4m3) per lane: for |x| in [2^-6, 448) the reference's
// nearbyint(frexp fraction * 16) is round-to-nearest-even to 3 mantissa bits, which is the
// integer add of 0x7FFFF plus the lowest kept bit, a carry into the exponent included; the code
// is then (bits >> 20) - (120 << 3) (f32 bias 127, e4m3 bias 7). Below 2^-6 it is
// nearbyint(|x| * 512) as in the reference (the product is exact), at or beyond 448 (inf too)
// 0x7E, NaN 0x7F, each with the sign bit of x.
#include "quant/fp8/fp8.h"

#include <cmath>

#include "quant/fast/x86/avx512/kernels.h"
#include "quant/fast/x86/avx512/simd.h"

namespace insitu::fastq::avx512 {
namespace {

inline V nan_to_zero(V v) {
  return _mm512_mask_blend_ps(unordered(v), v, vzero());
}

// fp8::f32_to_e4m3 of 16 floats, one code per 32-bit lane.
inline VI e4m3_codes(V v) {
  const VI sign =
      _mm512_srli_epi32(_mm512_and_si512(_mm512_castps_si512(v), splati(INT32_MIN)), 24);
  const V a = vabs(v);
  const VI abits = _mm512_castps_si512(a);
  const VI lsb = _mm512_and_si512(_mm512_srli_epi32(abits, 20), splati(1));
  const VI rounded = _mm512_add_epi32(abits, _mm512_add_epi32(splati(0x7FFFF), lsb));
  const VI normal = _mm512_sub_epi32(_mm512_srli_epi32(rounded, 20), splati(120 << 3));
  const VI subnormal =
      _mm512_cvt_roundps_epi32(mul(a, splat(512.f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  VI c = selecti(lt(a, splat(0.015625f)), normal, subnormal);
  c = _mm512_mask_mov_epi32(c, _mm512_cmp_ps_mask(a, splat(fp8::kE4M3Max), _CMP_GE_OQ),
                            splati(0x7E));
  c = _mm512_mask_mov_epi32(c, unordered(v), splati(0x7F));
  return _mm512_or_si512(c, sign);
}

inline float block_amax(const float* x, int n) {
  V m = vzero();
  for (int j = 0; j < n; j += 16) m = _mm512_max_ps(m, nan_to_zero(vabs(_mm512_loadu_ps(x + j))));
  return _mm512_reduce_max_ps(m);
}

// std::clamp(q, -127.f, 127.f) (NaN stays NaN), then static_cast<int8_t>: cvttss2si and the
// low byte, as the reference compiles (NaN -> INT32_MIN -> 0).
inline __m128i f8q8_levels(V x, V d, M d_nonzero) {
  V q = _mm512_maskz_mov_ps(d_nonzero, round_half_away(div(x, d)));
  q = select(lt(q, splat(-127.f)), q, splat(-127.f));
  q = select(lt(splat(127.f), q), q, splat(127.f));
  return _mm512_cvtepi32_epi8(trunc_i32(q));
}

}  // namespace

void f32_to_e4m3_row(const float* x, uint8_t* out, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const M m = n - i >= 16 ? M(0xFFFF) : static_cast<M>((1u << (n - i)) - 1);
    _mm_mask_storeu_epi8(out + i, m,
                         _mm512_cvtepi32_epi8(e4m3_codes(_mm512_maskz_loadu_ps(m, x + i))));
  }
}

void quantize_fp8(const float* x, void* out, int64_t n, const float* /*importance*/) {
  auto* y = static_cast<fp8::BlockFp8*>(out);
  for (int64_t i = 0; i < n / fp8::kFp8Block; ++i, x += fp8::kFp8Block) {
    const float amax = block_amax(x, fp8::kFp8Block);
    y[i].d = amax / fp8::kE4M3Max;
    const V id = splat(amax > 0.f ? fp8::kE4M3Max / amax : 0.f);
    for (int j = 0; j < fp8::kFp8Block; j += 16)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y[i].q + j),
                       _mm512_cvtepi32_epi8(e4m3_codes(mul(_mm512_loadu_ps(x + j), id))));
  }
}

void quantize_f8q8(const float* x, void* out, int64_t n, const float* /*importance*/) {
  auto* y = static_cast<fp8::BlockF8Q8*>(out);
  const int64_t nb = n / fp8::kF8Q8Block;
  // 16 blocks at a time so that their 16 scale codes take one vector conversion.
  for (int64_t b0 = 0; b0 < nb; b0 += 16) {
    const int lanes = nb - b0 >= 16 ? 16 : static_cast<int>(nb - b0);
    alignas(64) float amax[16] = {}, d[16];
    alignas(64) uint32_t code[16];
    for (int k = 0; k < lanes; ++k) amax[k] = block_amax(x + (b0 + k) * fp8::kF8Q8Block, 32);
    const V dv = div(_mm512_load_ps(amax), splat(127.f));
    _mm512_store_ps(d, dv);
    _mm512_store_si512(code, e4m3_codes(mul(dv, splat(fp8::kE4M3Max))));
    for (int k = 0; k < lanes; ++k) {
      const float* xb = x + (b0 + k) * fp8::kF8Q8Block;
      fp8::BlockF8Q8& blk = y[b0 + k];
      blk.d = static_cast<uint8_t>(code[k]);
      const V dk = splat(d[k]);
      const M nz = d[k] != 0.f ? M(0xFFFF) : M(0);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(blk.q), f8q8_levels(_mm512_loadu_ps(xb), dk, nz));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(blk.q + 16),
                       f8q8_levels(_mm512_loadu_ps(xb + 16), dk, nz));
    }
  }
}

}  // namespace insitu::fastq::avx512

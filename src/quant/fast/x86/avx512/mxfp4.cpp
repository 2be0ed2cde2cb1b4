// MXFP4 row quantizer (quant/mxfp4/mxfp4.cpp): a block's 32 elements in two vectors. The
// block maximum of |x| is a reduction (order independent once NaNs are zeroed; the reference's
// std::max chain from 0 never takes a NaN); the shared exponent is the reference's own
// function; std::ldexp(x, 127 - e) is a multiplication by 2^(127 - e), which is a float for
// every e in 0..254 (2^-127 is subnormal but exact), and both round x * 2^(127 - e) once, to
// nearest. The E2M1 code counts the thresholds that v is not below, as the reference's chain
// of `a < t` tests does (NaN passes none: code 7).
#include "quant/mxfp4/mxfp4.h"

#include <cmath>

#include "quant/fast/x86/avx512/kernels.h"
#include "quant/fast/x86/avx512/simd.h"

namespace insitu::fastq::avx512 {
namespace {

inline V nan_to_zero(V v) {
  return _mm512_mask_blend_ps(unordered(v), v, vzero());
}

// e2m1_code of 16 scaled values, one per 32-bit lane.
inline VI e2m1_codes(V v) {
  static constexpr float kThresholds[7] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.f};
  const V a = vabs(v);
  VI c = _mm512_setzero_si512();
  for (float t : kThresholds)
    c = _mm512_mask_add_epi32(c, _mm512_cmp_ps_mask(a, splat(t), _CMP_NLT_UQ), c, splati(1));
  return _mm512_mask_or_epi32(c, lt(v, vzero()), c, splati(8));
}

}  // namespace

void quantize_mxfp4(const float* x, void* out, int64_t n, const float* /*importance*/) {
  auto* y = static_cast<mxfp4::BlockMxfp4*>(out);
  for (int64_t i = 0; i < n / mxfp4::kBlock; ++i, x += mxfp4::kBlock) {
    const V x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
    const float amax =
        _mm512_reduce_max_ps(_mm512_max_ps(nan_to_zero(vabs(x0)), nan_to_zero(vabs(x1))));
    const int e = mxfp4::shared_exponent(amax, mxfp4::kDefaultRule);
    y[i].e = static_cast<uint8_t>(e);
    const V s = splat(std::ldexp(1.f, 127 - e));  // exact, also 2^-127 (subnormal)
    const VI lo = e2m1_codes(mul(x0, s)), hi = e2m1_codes(mul(x1, s));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[i].qs),
                     _mm512_cvtepi32_epi8(_mm512_or_si512(lo, _mm512_slli_epi32(hi, 4))));
  }
}

}  // namespace insitu::fastq::avx512

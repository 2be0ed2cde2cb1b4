// q6_K (one super-block per pass, one 16-element sub-block per lane) and q8_K (the activation
// type). Mirrors quant/ggml/kquants_q6q8.cpp.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "quant/fast/x86/avx512/kernels.h"
#include "quant/fast/x86/avx512/pack.h"
#include "quant/fast/x86/avx512/search.h"
#include "quant/ggml/blocks.h"
#include "quant/ggml/quant_math.h"

namespace insitu::fastq::avx512 {
namespace {

using ggml::kQK_K;

void quantize_q6_K_block(const float* x, const float* qw, ggml::BlockQ6K& b) {
  V xt[16], wt[16], L[16];
  load_lanes(x, 16, 16, xt);
  if (qw) load_lanes(qw, 16, 16, wt);
  alignas(64) float scales[16], dl[16];
  _mm512_store_ps(scales, make_qx(16, 32, xt, qw ? wt : nullptr, L));
  float max_scale = 0.f, max_abs_scale = 0.f;
  for (int ib = 0; ib < 16; ++ib) {
    if (std::fabs(scales[ib]) > max_abs_scale) {
      max_abs_scale = std::fabs(scales[ib]);
      max_scale = scales[ib];
    }
  }
  if (max_abs_scale < ggml::kGroupMaxEps) {
    std::memset(&b, 0, sizeof(b));
    return;
  }
  const float iscale = -128.f / max_scale;
  b.d = f32_to_f16(1.f / iscale);
  for (int ib = 0; ib < 16; ++ib)
    b.scales[ib] = static_cast<int8_t>(std::min(127, ggml::nearest_int(iscale * scales[ib])));
  for (int j = 0; j < 16; ++j) dl[j] = f16_to_f32(b.d) * static_cast<float>(b.scales[j]);
  const V d = _mm512_load_ps(dl);
  const M upd = ne(d, vzero());
  for (int i = 0; i < 16; ++i)
    L[i] = select(upd, L[i], add(level(div(xt[i], d), -32, 31), splat(32.f)));
  alignas(64) uint8_t q8[kQK_K];
  scatter_levels(L, 16, 16, q8);
  pack_q6k(q8, b.ql, b.qh);
}

}  // namespace

void quantize_q6_K(const float* x, void* out, int64_t n, const float* importance) {
  auto* y = static_cast<ggml::BlockQ6K*>(out);
  for (int64_t i = 0; i < n / kQK_K; ++i)
    quantize_q6_K_block(x + i * kQK_K, importance ? importance + i * kQK_K : nullptr, y[i]);
}

// q8_K: one 256-element block at a time, elements in lanes. The signed absmax is a reduction
// whose result is order independent once NaNs (which never win the scalar comparison) are
// zeroed; the first element of that magnitude gives the sign, as the scalar loop.
void quantize_q8_K(const float* x, void* out, int64_t n, const float* /*importance*/) {
  auto* y = static_cast<ggml::BlockQ8K*>(out);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    V a[16];
    V m = vzero();
    for (int k = 0; k < 16; ++k) {
      const V v = _mm512_loadu_ps(x + 16 * k);
      a[k] = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), vabs(v));
      m = _mm512_max_ps(m, a[k]);
    }
    const float amax = _mm512_reduce_max_ps(m);
    if (amax == 0.f) {
      std::memset(&y[i], 0, sizeof(ggml::BlockQ8K));
      continue;
    }
    float max = 0.f;
    for (int k = 0; k < 16; ++k) {
      const M hit = eq(a[k], splat(amax));
      if (hit) {
        max = x[16 * k + __builtin_ctz(hit)];
        break;
      }
    }
    const float iscale = -127.f / max;
    const V vis = splat(iscale);
    for (int k = 0; k < 16; ++k) {
      const VI q =
          _mm512_min_epi32(nearest_int(mul(vis, _mm512_loadu_ps(x + 16 * k))), splati(127));
      const VI q8 = low_byte_i8(q);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y[i].qs + 16 * k), _mm512_cvtepi32_epi8(q8));
      y[i].bsums[k] = static_cast<int16_t>(_mm512_reduce_add_epi32(q8));
    }
    y[i].d = 1.f / iscale;
  }
}

}  // namespace insitu::fastq::avx512

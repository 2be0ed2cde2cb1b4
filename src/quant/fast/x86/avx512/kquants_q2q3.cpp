// q2_K and q3_K: one super-block per pass, one 16-element sub-block per lane. Mirrors
// quant/ggml/kquants_q2q3.cpp; the super-scale steps stay scalar (the reference's own
// make_qp_quants / make_qx_quants for the importance paths).
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

void load_sub_blocks(const float* x, V* xt) {
  load_lanes(x, 16, 16, xt);
}

// Importance weights qw * sqrt(sigma2 + x^2) per element and their per-sub-block sums, with
// sigma2 = factor * sum(x^2) / 256 over the super-block (summed in element order).
void importance_weights(const float* x, const float* qw, const V* xt, float factor, V* w,
                        float* sw) {
  float sumx2 = 0.f;
  for (int j = 0; j < kQK_K; ++j) sumx2 += x[j] * x[j];
  const V sigma2 = splat(factor == 1.f ? sumx2 / kQK_K : factor * sumx2 / kQK_K);
  V qwt[16];
  load_lanes(qw, 16, 16, qwt);
  V sumw = vzero();
  for (int l = 0; l < 16; ++l) {
    w[l] = mul(qwt[l], vsqrt(add(sigma2, mul(xt[l], xt[l]))));
    sumw = add(sumw, w[l]);
  }
  _mm512_storeu_ps(sw, sumw);
}

// Final q2_K levels from the stored scales and mins, packed.
void finish_q2(const V* xt, V* L, ggml::BlockQ2K& y) {
  const float dall = f16_to_f32(y.d), mall = f16_to_f32(y.dmin);
  alignas(64) float dl[16], ml[16];
  for (int j = 0; j < 16; ++j) {
    dl[j] = dall * static_cast<float>(y.scales[j] & 0xF);
    ml[j] = mall * static_cast<float>(y.scales[j] >> 4);
  }
  const V d = _mm512_load_ps(dl), m = _mm512_load_ps(ml);
  const M upd = ne(d, vzero());
  for (int i = 0; i < 16; ++i) L[i] = select(upd, L[i], level(div(add(xt[i], m), d), 0, 3));
  alignas(64) uint8_t Ln[kQK_K];
  scatter_levels(L, 16, 16, Ln);
  pack_2bit(Ln, y.qs);
}

void quantize_q2_K_block(const float* x, const float* qw, ggml::BlockQ2K& y) {
  V xt[16], w[16], L[16], the_min;
  load_sub_blocks(x, xt);
  alignas(64) float scales[16], mins[16], sw[16];
  if (qw == nullptr) {
    for (int l = 0; l < 16; ++l) w[l] = vabs(xt[l]);
    _mm512_store_ps(scales, make_qkx(16, 3, xt, w, L, &the_min, -0.5f, 0.1f, 15, true, false));
    _mm512_store_ps(mins, the_min);
    constexpr float kQ4Scale = 15.f;
    float max_scale = 0.f, max_min = 0.f;
    for (int j = 0; j < 16; ++j) {
      max_scale = std::max(max_scale, scales[j]);
      max_min = std::max(max_min, mins[j]);
    }
    if (max_scale > 0) {
      const float iscale = kQ4Scale / max_scale;
      for (int j = 0; j < 16; ++j)
        y.scales[j] = static_cast<uint8_t>(ggml::nearest_int(iscale * scales[j]));
      y.d = f32_to_f16(max_scale / kQ4Scale);
    } else {
      std::memset(y.scales, 0, 16);
      y.d = f32_to_f16(0.f);
    }
    if (max_min > 0) {
      const float iscale = kQ4Scale / max_min;
      for (int j = 0; j < 16; ++j)
        y.scales[j] =
            static_cast<uint8_t>(y.scales[j] | (ggml::nearest_int(iscale * mins[j]) << 4));
      y.dmin = f32_to_f16(max_min / kQ4Scale);
    } else {
      y.dmin = f32_to_f16(0.f);
    }
  } else {
    importance_weights(x, qw, xt, 1.f, w, sw);
    _mm512_store_ps(scales, make_qkx(16, 3, xt, w, L, &the_min, -0.9f, 0.05f, 36, false, true));
    _mm512_store_ps(mins, the_min);
    uint8_t Ls[16], Lm[16];
    const float dm = ggml::make_qp_quants(16, 15, scales, Ls, sw);
    const float mm = ggml::make_qp_quants(16, 15, mins, Lm, sw);
    y.d = f32_to_f16(dm);
    y.dmin = f32_to_f16(mm);
    for (int j = 0; j < 16; ++j) y.scales[j] = static_cast<uint8_t>(Ls[j] | (Lm[j] << 4));
  }
  finish_q2(xt, L, y);
}

void pack_q3_scales(const int* ls, uint8_t* scales) {
  std::memset(scales, 0, 12);
  for (int j = 0; j < 16; ++j) {
    const int l = ls[j];
    if (j < 8)
      scales[j] = static_cast<uint8_t>(l & 0xF);
    else
      scales[j - 8] = static_cast<uint8_t>(scales[j - 8] | ((l & 0xF) << 4));
    scales[j % 4 + 8] = static_cast<uint8_t>(scales[j % 4 + 8] | ((l >> 4) << (2 * (j / 4))));
  }
}

int q3_scale(const uint8_t* scales, int j) {
  const int lo = j < 8 ? (scales[j] & 0xF) : (scales[j - 8] >> 4);
  return (lo | (((scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
}

void finish_q3(const V* xt, V* L, ggml::BlockQ3K& y) {
  const float dall = f16_to_f32(y.d);
  alignas(64) float dl[16];
  for (int j = 0; j < 16; ++j)
    dl[j] = dall * static_cast<float>(static_cast<int8_t>(q3_scale(y.scales, j)));
  const V d = _mm512_load_ps(dl);
  const M upd = ne(d, vzero());
  for (int i = 0; i < 16; ++i)
    L[i] = select(upd, L[i], add(level(div(xt[i], d), -4, 3), splat(4.f)));
  alignas(64) uint8_t Ln[kQK_K];
  scatter_levels(L, 16, 16, Ln);
  split_q3k_high_bit(Ln, y.hmask);
  pack_2bit(Ln, y.qs);
}

void quantize_q3_K_block(const float* x, const float* qw, ggml::BlockQ3K& y) {
  V xt[16], L[16];
  load_sub_blocks(x, xt);
  alignas(64) float scales[16];
  if (qw == nullptr) {
    _mm512_store_ps(scales, make_q3(16, 4, xt, L));
    float max_scale = 0.f, amax = 0.f;
    for (int j = 0; j < 16; ++j) {
      const float scale = std::fabs(scales[j]);
      if (scale > amax) {
        amax = scale;
        max_scale = scales[j];
      }
    }
    if (max_scale != 0.f) {
      const float iscale = -32.f / max_scale;
      int ls[16];
      for (int j = 0; j < 16; ++j) {
        const int8_t l = static_cast<int8_t>(ggml::nearest_int(iscale * scales[j]));
        ls[j] = std::clamp(static_cast<int>(l), -32, 31) + 32;
      }
      pack_q3_scales(ls, y.scales);
      y.d = f32_to_f16(1.f / iscale);
    } else {
      std::memset(y.scales, 0, 12);
      y.d = f32_to_f16(0.f);
    }
  } else {
    V w[16];
    alignas(64) float sw[16];
    importance_weights(x, qw, xt, 2.f, w, sw);
    _mm512_store_ps(scales, make_qx(16, 4, xt, w, L));
    int8_t Ls[16];
    const float d_block = ggml::make_qx_quants(16, 32, scales, Ls, 1, sw);
    int ls[16];
    for (int j = 0; j < 16; ++j) ls[j] = Ls[j];
    pack_q3_scales(ls, y.scales);
    y.d = f32_to_f16(d_block);
  }
  finish_q3(xt, L, y);
}

}  // namespace

void quantize_q2_K(const float* x, void* out, int64_t n, const float* importance) {
  auto* y = static_cast<ggml::BlockQ2K*>(out);
  for (int64_t i = 0; i < n / kQK_K; ++i)
    quantize_q2_K_block(x + i * kQK_K, importance ? importance + i * kQK_K : nullptr, y[i]);
}

void quantize_q3_K(const float* x, void* out, int64_t n, const float* importance) {
  auto* y = static_cast<ggml::BlockQ3K*>(out);
  for (int64_t i = 0; i < n / kQK_K; ++i)
    quantize_q3_K_block(x + i * kQK_K, importance ? importance + i * kQK_K : nullptr, y[i]);
}

}  // namespace insitu::fastq::avx512

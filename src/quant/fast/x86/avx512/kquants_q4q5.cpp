// q4_K and q5_K, 16 sub-blocks of 32 (two super-blocks) per pass, one sub-block per lane.
// Mirrors quant/ggml/kquants_q4q5.cpp step by step; the per-super-block steps (8 values) stay
// scalar, in the reference's order.
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

void pack_k4_scales(const uint8_t* ls, const uint8_t* lm, uint8_t* s) {
  std::memset(s, 0, ggml::kKScaleBytes);
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      s[j] = ls[j];
      s[j + 4] = lm[j];
    } else {
      s[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
      s[j - 4] = static_cast<uint8_t>(s[j - 4] | ((ls[j] >> 4) << 6));
      s[j] = static_cast<uint8_t>(s[j] | ((lm[j] >> 4) << 6));
    }
  }
}

void scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// The scale/min rounding of ggml's *_ref path for one super-block (8 sub-block results).
void k4_scales_ref(const float* scales, const float* mins, uint16_t* d16, uint16_t* dmin16,
                   uint8_t* packed) {
  float max_scale = 0.f, max_min = 0.f;
  for (int j = 0; j < 8; ++j) {
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t ls[8], lm[8];
  for (int j = 0; j < 8; ++j) {
    ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(ggml::nearest_int(inv_scale * scales[j])));
    lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(ggml::nearest_int(inv_min * mins[j])));
  }
  pack_k4_scales(ls, lm, packed);
  *d16 = f32_to_f16(max_scale / 63.f);
  *dmin16 = f32_to_f16(max_min / 63.f);
}

// The importance path's super-scales: weighted searches over the 8 sub-block scales and mins
// (the reference's own scalar make_qp_quants).
void k4_scales_imatrix(const float* scales, const float* mins, const float* sw, bool clamp_to_63,
                       uint16_t* d16, uint16_t* dmin16, uint8_t* packed) {
  uint8_t Ls[8], Lm[8];
  const float d_block = ggml::make_qp_quants(8, 63, scales, Ls, sw);
  const float m_block = ggml::make_qp_quants(8, 63, mins, Lm, sw);
  for (int j = 0; clamp_to_63 && j < 8; ++j) {
    Ls[j] = std::min<uint8_t>(63, Ls[j]);
    Lm[j] = std::min<uint8_t>(63, Lm[j]);
  }
  pack_k4_scales(Ls, Lm, packed);
  *d16 = f32_to_f16(d_block);
  *dmin16 = f32_to_f16(m_block);
}

struct K4Header {
  uint16_t* d;
  uint16_t* dmin;
  uint8_t* scales;
};

// Quantizes nsb (1 or 2) consecutive super-blocks; writes the headers through hdr[s] and the
// final levels (element order, 256 per super-block) to L_out.
template <int kNmax>
void k4_group(const float* x, const float* qw, int nsb, const K4Header* hdr, uint8_t* L_out) {
  const int lanes = 8 * nsb;
  V xt[32], w[32], L[32];
  load_lanes(x, 32, lanes, xt);
  V the_min, scale;
  alignas(64) float sw[16];
  if (qw == nullptr) {
    V sum_x2 = vzero();
    for (int l = 0; l < 32; ++l) sum_x2 = add(sum_x2, mul(xt[l], xt[l]));
    const V av_x = vsqrt(div(sum_x2, splat(32.f)));
    for (int l = 0; l < 32; ++l) w[l] = add(av_x, vabs(xt[l]));
    constexpr bool kQ5 = kNmax == 31;
    scale = make_qkx(32, kNmax, xt, w, L, &the_min, kQ5 ? -0.5f : -1.f, 0.1f, kQ5 ? 15 : 20, false,
                     false);
  } else {
    alignas(64) float sigma2[16];
    for (int s = 0; s < 2; ++s) {
      float sum_x2 = 0.f;
      for (int l = 0; s < nsb && l < kQK_K; ++l) sum_x2 += x[kQK_K * s + l] * x[kQK_K * s + l];
      const float v = 2 * sum_x2 / kQK_K;
      for (int j = 0; j < 8; ++j) sigma2[8 * s + j] = v;
    }
    const V sig = _mm512_load_ps(sigma2);
    V qwt[32];
    load_lanes(qw, 32, lanes, qwt);
    V sumw = vzero();
    for (int l = 0; l < 32; ++l) {
      w[l] = mul(qwt[l], vsqrt(add(sig, mul(xt[l], xt[l]))));
      sumw = add(sumw, w[l]);
    }
    _mm512_store_ps(sw, sumw);
    scale = make_qkx(32, kNmax, xt, w, L, &the_min, -0.9f, 0.05f, 36, false, true);
  }
  alignas(64) float scales[16], mins[16], dl[16], dml[16];
  _mm512_store_ps(scales, scale);
  _mm512_store_ps(mins, the_min);
  for (int s = 0; s < nsb; ++s) {
    const K4Header& h = hdr[s];
    if (qw == nullptr)
      k4_scales_ref(scales + 8 * s, mins + 8 * s, h.d, h.dmin, h.scales);
    else
      k4_scales_imatrix(scales + 8 * s, mins + 8 * s, sw + 8 * s, kNmax == 31, h.d, h.dmin,
                        h.scales);
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      scale_min_k4(j, h.scales, &sc, &m);
      dl[8 * s + j] = f16_to_f32(*h.d) * static_cast<float>(sc);
      dml[8 * s + j] = f16_to_f32(*h.dmin) * static_cast<float>(m);
    }
  }
  for (int j = 8 * nsb; j < 16; ++j) dl[j] = dml[j] = 0.f;
  // Final levels from the stored scales; sub-blocks whose scale rounds to 0 keep their search
  // levels, as the reference.
  const V d = _mm512_load_ps(dl), dm = _mm512_load_ps(dml);
  const M upd = ne(d, vzero());
  for (int i = 0; i < 32; ++i) L[i] = select(upd, L[i], level(div(add(xt[i], dm), d), 0, kNmax));
  scatter_levels(L, 32, lanes, L_out);
}

template <typename Block, int kNmax, typename PackFn>
void quantize_k4_row(const float* x, void* out, int64_t n, const float* importance, PackFn pack) {
  auto* y = static_cast<Block*>(out);
  const int64_t nb = n / kQK_K;
  alignas(64) uint8_t L[2 * kQK_K];
  for (int64_t i = 0; i < nb; i += 2) {
    const int nsb = nb - i >= 2 ? 2 : 1;
    K4Header hdr[2];
    for (int s = 0; s < nsb; ++s) hdr[s] = {&y[i + s].d, &y[i + s].dmin, y[i + s].scales};
    k4_group<kNmax>(x + i * kQK_K, importance ? importance + i * kQK_K : nullptr, nsb, hdr, L);
    for (int s = 0; s < nsb; ++s) pack(L + kQK_K * s, y[i + s]);
  }
}

}  // namespace

void quantize_q4_K(const float* x, void* out, int64_t n, const float* importance) {
  quantize_k4_row<ggml::BlockQ4K, 15>(
      x, out, n, importance, [](const uint8_t* L, ggml::BlockQ4K& b) { pack_q4k(L, b.qs); });
}

void quantize_q5_K(const float* x, void* out, int64_t n, const float* importance) {
  quantize_k4_row<ggml::BlockQ5K, 31>(
      x, out, n, importance, [](const uint8_t* L, ggml::BlockQ5K& b) { pack_q5k(L, b.qs, b.qh); });
}

}  // namespace insitu::fastq::avx512

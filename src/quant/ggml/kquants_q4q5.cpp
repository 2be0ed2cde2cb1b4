// ggml's q4_K and q5_K: 256-element super-blocks of 8 sub-blocks of 32 with 6-bit scale/min.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "quant/ggml/blocks.h"
#include "quant/ggml/ggml_quants.h"
#include "quant/ggml/quant_math.h"

namespace insitu::ggml {
namespace {

// 12-byte packing of eight 6-bit scales and mins: j < 4 in the low 6 bits of bytes j / j+4;
// j >= 4 as nibbles of byte j+4 with the top 2 bits in bits 6-7 of bytes j-4 / j.
void pack_k4_scales(const uint8_t* ls, const uint8_t* lm, uint8_t* s) {
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

// Final levels in [0, nmax] from the stored super-scales and 6-bit sub-scales.
void requantize_k4(const float* x, uint16_t d16, uint16_t dmin16, const uint8_t* scales, int nmax,
                   uint8_t* L) {
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    scale_min_k4(j, scales, &sc, &m);
    const float d = f16_to_f32(d16) * static_cast<float>(sc);
    if (d == 0.f) continue;
    const float dm = f16_to_f32(dmin16) * static_cast<float>(m);
    for (int ii = 0; ii < 32; ++ii)
      L[32 * j + ii] =
          static_cast<uint8_t>(std::clamp(nearest_int((x[32 * j + ii] + dm) / d), 0, nmax));
  }
}

// The no-importance path (ggml's *_ref): per sub-block weighted (scale, min) search, then the
// sub-scales are rounded linearly against the largest one.
void k4_scales_ref(const float* x, int nmax, float rmin, int nstep, uint8_t* L, uint16_t* d16,
                   uint16_t* dmin16, uint8_t* packed) {
  uint8_t Laux[32];
  float weights[32], mins[8], scales[8];
  float max_scale = 0.f, max_min = 0.f;
  for (int j = 0; j < 8; ++j) {
    float sum_x2 = 0.f;
    for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
    scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin,
                                 0.1f, nstep, false);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t ls[8], lm[8];
  for (int j = 0; j < 8; ++j) {
    // ggml converts to uint8_t before clamping to 63.
    ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * scales[j])));
    lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[j])));
  }
  pack_k4_scales(ls, lm, packed);
  *d16 = f32_to_f16(max_scale / 63.f);
  *dmin16 = f32_to_f16(max_min / 63.f);
}

// The importance path (ggml's *_impl with quant_weights): weights qw*sqrt(sigma2 + x^2) and a
// weighted search for the super-scales (make_qp_quants).
// ggml clamps the 6-bit levels to 63 here for q5_K only (clamp_to_63).
void k4_scales_imatrix(const float* x, const float* qw_block, int nmax, bool clamp_to_63,
                       uint8_t* L, uint16_t* d16, uint16_t* dmin16, uint8_t* packed) {
  uint8_t Laux[32], Ls[8], Lm[8];
  float weights[32], sw[8], mins[8], scales[8];
  float sum_x2 = 0.f;
  for (int l = 0; l < kQK_K; ++l) sum_x2 += x[l] * x[l];
  const float sigma2 = 2 * sum_x2 / kQK_K;
  for (int j = 0; j < 8; ++j) {
    const float* qw = qw_block + 32 * j;
    for (int l = 0; l < 32; ++l)
      weights[l] = qw[l] * std::sqrt(sigma2 + x[32 * j + l] * x[32 * j + l]);
    float sumw = 0.f;
    for (int l = 0; l < 32; ++l) sumw += weights[l];
    sw[j] = sumw;
    scales[j] = make_qkx3_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -0.9f,
                                 0.05f, 36, false);
  }
  const float d_block = make_qp_quants(8, 63, scales, Ls, sw);
  const float m_block = make_qp_quants(8, 63, mins, Lm, sw);
  for (int j = 0; clamp_to_63 && j < 8; ++j) {
    Ls[j] = std::min<uint8_t>(63, Ls[j]);
    Lm[j] = std::min<uint8_t>(63, Lm[j]);
  }
  pack_k4_scales(Ls, Lm, packed);
  *d16 = f32_to_f16(d_block);
  *dmin16 = f32_to_f16(m_block);
}

}  // namespace

void quantize_q4_K(const float* x, void* out, int64_t n, const float* importance) {
  auto* y = static_cast<BlockQ4K*>(out);
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    BlockQ4K& b = y[i];
    std::memset(b.scales, 0, sizeof(b.scales));
    if (importance)
      k4_scales_imatrix(x, importance + i * kQK_K, 15, false, L, &b.d, &b.dmin, b.scales);
    else
      k4_scales_ref(x, 15, -1.f, 20, L, &b.d, &b.dmin, b.scales);
    requantize_k4(x, b.d, b.dmin, b.scales, 15, L);
    for (int j = 0; j < kQK_K; j += 64)
      for (int l = 0; l < 32; ++l)
        b.qs[j / 2 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
  }
}

void quantize_q5_K(const float* x, void* out, int64_t n, const float* importance) {
  auto* y = static_cast<BlockQ5K*>(out);
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    BlockQ5K& b = y[i];
    std::memset(b.scales, 0, sizeof(b.scales));
    if (importance)
      k4_scales_imatrix(x, importance + i * kQK_K, 31, true, L, &b.d, &b.dmin, b.scales);
    else
      k4_scales_ref(x, 31, -0.5f, 15, L, &b.d, &b.dmin, b.scales);
    requantize_k4(x, b.d, b.dmin, b.scales, 31, L);
    std::memset(b.qh, 0, sizeof(b.qh));
    // 64-element chunk c: low nibbles of its first 32 in qs, high nibbles the next 32; the 5th
    // bits go to bits 2c and 2c+1 of qh[j].
    for (int c = 0; c < 4; ++c) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[64 * c + j], l2 = L[64 * c + j + 32];
        if (l1 > 15) {
          l1 -= 16;
          b.qh[j] = static_cast<uint8_t>(b.qh[j] | (1u << (2 * c)));
        }
        if (l2 > 15) {
          l2 -= 16;
          b.qh[j] = static_cast<uint8_t>(b.qh[j] | (2u << (2 * c)));
        }
        b.qs[32 * c + j] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
    }
  }
}

void dequantize_q4_K(const void* in, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ4K*>(in);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = f16_to_f32(b[i].d), min = f16_to_f32(b[i].dmin);
    for (int c = 0; c < 4; ++c) {
      uint8_t sc, m;
      scale_min_k4(2 * c, b[i].scales, &sc, &m);
      const float d1 = d * static_cast<float>(sc), m1 = min * static_cast<float>(m);
      scale_min_k4(2 * c + 1, b[i].scales, &sc, &m);
      const float d2 = d * static_cast<float>(sc), m2 = min * static_cast<float>(m);
      const uint8_t* q = b[i].qs + 32 * c;
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void dequantize_q5_K(const void* in, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ5K*>(in);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = f16_to_f32(b[i].d), min = f16_to_f32(b[i].dmin);
    const uint8_t* qh = b[i].qh;
    for (int c = 0; c < 4; ++c) {
      uint8_t sc, m;
      scale_min_k4(2 * c, b[i].scales, &sc, &m);
      const float d1 = d * static_cast<float>(sc), m1 = min * static_cast<float>(m);
      scale_min_k4(2 * c + 1, b[i].scales, &sc, &m);
      const float d2 = d * static_cast<float>(sc), m2 = min * static_cast<float>(m);
      const uint8_t* ql = b[i].qs + 32 * c;
      const unsigned u1 = 1u << (2 * c), u2 = 2u << (2 * c);
      for (int l = 0; l < 32; ++l)
        *y++ = d1 * static_cast<float>((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l)
        *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
    }
  }
}

}  // namespace insitu::ggml

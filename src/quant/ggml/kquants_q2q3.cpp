// ggml's q2_K and q3_K: 256-element super-blocks of 16 sub-blocks of 16.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "quant/ggml/blocks.h"
#include "quant/ggml/ggml_quants.h"
#include "quant/ggml/quant_math.h"

namespace insitu::ggml {
namespace {

// 2-bit levels: byte l of each 32-byte group holds elements l, l+32, l+64, l+96 of a 128 chunk.
void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQK_K; j += 128)
    for (int l = 0; l < 32; ++l)
      qs[j / 4 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                            (L[j + l + 96] << 6));
}

// Final q2_K levels from the stored (rounded) scales and mins.
void requantize_q2(const float* x, const BlockQ2K& b, uint8_t* L) {
  const float dall = f16_to_f32(b.d), mall = f16_to_f32(b.dmin);
  for (int j = 0; j < 16; ++j) {
    const float d = dall * static_cast<float>(b.scales[j] & 0xF);
    if (d == 0.f) continue;
    const float m = mall * static_cast<float>(b.scales[j] >> 4);
    for (int ii = 0; ii < 16; ++ii)
      L[16 * j + ii] = static_cast<uint8_t>(std::clamp(nearest_int((x[16 * j + ii] + m) / d), 0, 3));
  }
}

void quantize_q2_K_block_ref(const float* x, BlockQ2K& y) {
  uint8_t L[kQK_K], Laux[16];
  float weights[16], mins[16], scales[16];
  constexpr float kQ4Scale = 15.f;
  float max_scale = 0.f, max_min = 0.f;  // scales are non-negative as the min is subtracted
  for (int j = 0; j < 16; ++j) {
    for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
    scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f,
                                 0.1f, 15, true);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  if (max_scale > 0) {
    const float iscale = kQ4Scale / max_scale;
    for (int j = 0; j < 16; ++j) y.scales[j] = static_cast<uint8_t>(nearest_int(iscale * scales[j]));
    y.d = f32_to_f16(max_scale / kQ4Scale);
  } else {
    std::memset(y.scales, 0, 16);
    y.d = f32_to_f16(0.f);
  }
  if (max_min > 0) {
    const float iscale = kQ4Scale / max_min;
    for (int j = 0; j < 16; ++j)
      y.scales[j] = static_cast<uint8_t>(y.scales[j] | (nearest_int(iscale * mins[j]) << 4));
    y.dmin = f32_to_f16(max_min / kQ4Scale);
  } else {
    y.dmin = f32_to_f16(0.f);
  }
  requantize_q2(x, y, L);
  pack_2bit(L, y.qs);
}

void quantize_q2_K_block_imatrix(const float* x, const float* qw_block, BlockQ2K& y) {
  uint8_t L[kQK_K], Laux[16], Ls[16], Lm[16];
  float mins[16], scales[16], sw[16] = {}, weight[16];
  float sumx2 = 0.f;
  for (int j = 0; j < kQK_K; ++j) sumx2 += x[j] * x[j];
  const float sigma2 = sumx2 / kQK_K;
  for (int j = 0; j < 16; ++j) {
    const float* qw = qw_block + 16 * j;
    for (int l = 0; l < 16; ++l)
      weight[l] = qw[l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
    for (int l = 0; l < 16; ++l) sw[j] += weight[l];
    scales[j] = make_qkx3_quants(16, 3, x + 16 * j, weight, L + 16 * j, &mins[j], Laux, -0.9f,
                                 0.05f, 36, false);
  }
  const float dm = make_qp_quants(16, 15, scales, Ls, sw);
  const float mm = make_qp_quants(16, 15, mins, Lm, sw);
  y.d = f32_to_f16(dm);
  y.dmin = f32_to_f16(mm);
  for (int j = 0; j < 16; ++j) y.scales[j] = static_cast<uint8_t>(Ls[j] | (Lm[j] << 4));
  requantize_q2(x, y, L);
  pack_2bit(L, y.qs);
}

// Sixteen 6-bit q3_K scales (already offset by 32): low nibbles in bytes 0..7 (j and j+8 share
// a byte), top 2 bits in bytes 8..11 (scale j at bits 2*(j/4) of byte 8 + j%4).
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

// Final q3_K levels from the stored scales, then hmask + 2-bit packing.
void finish_q3(const float* x, BlockQ3K& y, int8_t* L) {
  const float dall = f16_to_f32(y.d);
  for (int j = 0; j < 16; ++j) {
    // ggml stores the scale in an int8_t before multiplying; the value range fits.
    const float d = dall * static_cast<float>(static_cast<int8_t>(q3_scale(y.scales, j)));
    if (d == 0.f) continue;
    for (int ii = 0; ii < 16; ++ii)
      L[16 * j + ii] =
          static_cast<int8_t>(std::clamp(nearest_int(x[16 * j + ii] / d), -4, 3) + 4);
  }
  std::memset(y.hmask, 0, sizeof(y.hmask));
  // The high bit of element j goes to bit j/32 of hmask[j%32].
  for (int j = 0; j < kQK_K; ++j) {
    if (L[j] > 3) {
      y.hmask[j % 32] = static_cast<uint8_t>(y.hmask[j % 32] | (1u << (j / 32)));
      L[j] = static_cast<int8_t>(L[j] - 4);
    }
  }
  uint8_t U[kQK_K];
  for (int j = 0; j < kQK_K; ++j) U[j] = static_cast<uint8_t>(L[j]);
  pack_2bit(U, y.qs);
}

void quantize_q3_K_block_ref(const float* x, BlockQ3K& y) {
  int8_t L[kQK_K];
  float scales[16];
  float max_scale = 0.f, amax = 0.f;
  for (int j = 0; j < 16; ++j) {
    scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j, true);
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
      // ggml rounds into an int8_t first, then clamps to [-32, 31].
      const int8_t l = static_cast<int8_t>(nearest_int(iscale * scales[j]));
      ls[j] = std::clamp(static_cast<int>(l), -32, 31) + 32;
    }
    pack_q3_scales(ls, y.scales);
    y.d = f32_to_f16(1.f / iscale);
  } else {
    std::memset(y.scales, 0, 12);
    y.d = f32_to_f16(0.f);
  }
  finish_q3(x, y, L);
}

void quantize_q3_K_block_imatrix(const float* x, const float* qw_block, BlockQ3K& y) {
  int8_t L[kQK_K], Ls[16];
  float scales[16], weight[16], sw[16];
  float sumx2 = 0.f;
  for (int j = 0; j < kQK_K; ++j) sumx2 += x[j] * x[j];
  const float sigma2 = 2 * sumx2 / kQK_K;
  for (int j = 0; j < 16; ++j) {
    const float* qw = qw_block + 16 * j;
    for (int l = 0; l < 16; ++l)
      weight[l] = qw[l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
    float sumw = 0.f;
    for (int l = 0; l < 16; ++l) sumw += weight[l];
    sw[j] = sumw;
    scales[j] = make_qx_quants(16, 4, x + 16 * j, L + 16 * j, 1, weight);
  }
  const float d_block = make_qx_quants(16, 32, scales, Ls, 1, sw);
  int ls[16];
  for (int j = 0; j < 16; ++j) ls[j] = Ls[j];
  pack_q3_scales(ls, y.scales);
  y.d = f32_to_f16(d_block);
  finish_q3(x, y, L);
}

}  // namespace

void quantize_q2_K(const float* x, void* out, int64_t n, const float* importance) {
  auto* y = static_cast<BlockQ2K*>(out);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    if (importance)
      quantize_q2_K_block_imatrix(x + i * kQK_K, importance + i * kQK_K, y[i]);
    else
      quantize_q2_K_block_ref(x + i * kQK_K, y[i]);
  }
}

void quantize_q3_K(const float* x, void* out, int64_t n, const float* importance) {
  auto* y = static_cast<BlockQ3K*>(out);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    if (importance)
      quantize_q3_K_block_imatrix(x + i * kQK_K, importance + i * kQK_K, y[i]);
    else
      quantize_q3_K_block_ref(x + i * kQK_K, y[i]);
  }
}

void dequantize_q2_K(const void* in, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ2K*>(in);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = f16_to_f32(b[i].d), min = f16_to_f32(b[i].dmin);
    for (int e = 0; e < kQK_K; ++e) {
      // Element e: 128-chunk c, shift group g (2 bits each), byte l within the 32.
      const int c = e / 128, g = (e % 128) / 32, l = e % 32;
      const uint8_t sc = b[i].scales[e / 16];
      const float dl = d * static_cast<float>(sc & 0xF);
      const float ml = min * static_cast<float>(sc >> 4);
      const int q = (b[i].qs[32 * c + l] >> (2 * g)) & 3;
      *y++ = dl * static_cast<float>(q) - ml;
    }
  }
}

void dequantize_q3_K(const void* in, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ3K*>(in);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d_all = f16_to_f32(b[i].d);
    for (int e = 0; e < kQK_K; ++e) {
      const int c = e / 128, g = (e % 128) / 32, l = e % 32;
      const float dl = d_all * static_cast<float>(q3_scale(b[i].scales, e / 16));
      const int lo = (b[i].qs[32 * c + l] >> (2 * g)) & 3;
      const int hi = (b[i].hmask[l] >> (e / 32)) & 1;
      *y++ = dl * static_cast<float>(lo - (hi ? 0 : 4));
    }
  }
}

}  // namespace insitu::ggml

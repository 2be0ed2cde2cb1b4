// ggml's q6_K (weights) and q8_K (the activation type of K-quant dot products).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "quant/ggml/blocks.h"
#include "quant/ggml/ggml_quants.h"
#include "quant/ggml/quant_math.h"

namespace insitu::ggml {

void quantize_q6_K(const float* x, void* out, int64_t n, const float* importance) {
  auto* y = static_cast<BlockQ6K*>(out);
  int8_t L[kQK_K];
  float scales[16];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    BlockQ6K& b = y[i];
    float max_scale = 0.f, max_abs_scale = 0.f;
    for (int ib = 0; ib < 16; ++ib) {
      // With an imatrix ggml passes the raw importance (no sigma2 term) as weights.
      const float* qw = importance ? importance + i * kQK_K + 16 * ib : nullptr;
      const float scale = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, 1, qw);
      scales[ib] = scale;
      if (std::fabs(scale) > max_abs_scale) {
        max_abs_scale = std::fabs(scale);
        max_scale = scale;
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&b, 0, sizeof(b));
      continue;
    }
    const float iscale = -128.f / max_scale;
    b.d = f32_to_f16(1.f / iscale);
    for (int ib = 0; ib < 16; ++ib)
      b.scales[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
    for (int j = 0; j < 16; ++j) {
      const float d = f16_to_f32(b.d) * static_cast<float>(b.scales[j]);
      if (d == 0.f) continue;
      for (int ii = 0; ii < 16; ++ii)
        L[16 * j + ii] =
            static_cast<int8_t>(std::clamp(nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
    }
    // 128-element half h: ql[64h + l] = q[l] | q[l+64] << 4, ql[64h + 32 + l] = q[l+32] |
    // q[l+96] << 4; qh[32h + l] holds the top 2 bits of q[l], q[l+32], q[l+64], q[l+96].
    for (int h = 0; h < 2; ++h) {
      const int8_t* q = L + 128 * h;
      for (int l = 0; l < 32; ++l) {
        b.ql[64 * h + l] = static_cast<uint8_t>((q[l] & 0xF) | ((q[l + 64] & 0xF) << 4));
        b.ql[64 * h + 32 + l] = static_cast<uint8_t>((q[l + 32] & 0xF) | ((q[l + 96] & 0xF) << 4));
        b.qh[32 * h + l] = static_cast<uint8_t>((q[l] >> 4) | ((q[l + 32] >> 4) << 2) |
                                                ((q[l + 64] >> 4) << 4) | ((q[l + 96] >> 4) << 6));
      }
    }
  }
}

void dequantize_q6_K(const void* in, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ6K*>(in);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = f16_to_f32(b[i].d);
    for (int h = 0; h < 2; ++h, y += 128) {
      const uint8_t* ql = b[i].ql + 64 * h;
      const uint8_t* qh = b[i].qh + 32 * h;
      const int8_t* sc = b[i].scales + 8 * h;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

void quantize_q8_K(const float* x, void* out, int64_t n, const float* /*importance*/) {
  quantize_row_q8_K(x, out, n);
}

void quantize_row_q8_K(const float* x, void* out, int64_t n) {
  auto* y = static_cast<BlockQ8K*>(out);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float max = 0.f, amax = 0.f;
    for (int j = 0; j < kQK_K; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    if (amax == 0.f) {
      // ggml leaves bsums untouched here; zero them so the block is fully defined.
      std::memset(&y[i], 0, sizeof(BlockQ8K));
      continue;
    }
    // -127 (not -128) keeps every level in [-127, 127].
    const float iscale = -127.f / max;
    for (int j = 0; j < kQK_K; ++j)
      y[i].qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[j])));
    for (int j = 0; j < 16; ++j) {
      int sum = 0;
      for (int ii = 0; ii < 16; ++ii) sum += y[i].qs[16 * j + ii];
      y[i].bsums[j] = static_cast<int16_t>(sum);
    }
    y[i].d = 1.f / iscale;
  }
}

void dequantize_q8_K(const void* in, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ8K*>(in);
  for (int64_t i = 0; i < n / kQK_K; ++i)
    for (int j = 0; j < kQK_K; ++j) *y++ = b[i].d * static_cast<float>(b[i].qs[j]);
}

}  // namespace insitu::ggml

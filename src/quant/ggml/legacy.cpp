// ggml's 32-element block types: q4_0 q4_1 q5_0 q5_1 q8_0 q8_1 (weights and activations).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "quant/ggml/blocks.h"
#include "quant/ggml/ggml_quants.h"
#include "quant/ggml/quant_math.h"
#include "quant/ggml/trunc.h"

namespace insitu::ggml {
namespace {

// Mean square of a whole row: the sigma2 that ggml's importance-weighted paths add to x^2.
float row_sigma2(const float* x, int64_t n) {
  float sum_x2 = 0.f;
  for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
  return sum_x2 / static_cast<float>(n);
}

// Importance-weighted element weights of the legacy *_impl paths: qw * sqrt(sigma2 + x^2).
void legacy_weights(const float* xb, const float* qw, float sigma2, float* weight) {
  for (int j = 0; j < 32; ++j) weight[j] = qw[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
}

// Element with the largest magnitude, keeping its sign (first on ties).
float signed_absmax32(const float* xb) {
  float amax = 0.f, max = 0.f;
  for (int j = 0; j < 32; ++j) {
    if (amax < std::fabs(xb[j])) {
      amax = std::fabs(xb[j]);
      max = xb[j];
    }
  }
  return max;
}

void min_max32(const float* xb, float* min, float* max) {
  *min = FLT_MAX;
  *max = -FLT_MAX;
  for (int j = 0; j < 32; ++j) {
    if (xb[j] < *min) *min = xb[j];
    if (xb[j] > *max) *max = xb[j];
  }
}

// Packs 5-bit levels: low nibbles as q4 (j | j+16 << 4), 5th bits into a LE u32.
void pack_q5(const uint8_t* L, uint8_t* qs, uint8_t* qh_out) {
  uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    qs[j] = static_cast<uint8_t>((L[j] & 0x0F) | ((L[j + 16] & 0x0F) << 4));
    qh |= static_cast<uint32_t>((L[j] & 0x10u) >> 4) << j;
    qh |= static_cast<uint32_t>((L[j + 16] & 0x10u) >> 4) << (j + 16);
  }
  std::memcpy(qh_out, &qh, 4);
}

}  // namespace

void quantize_q4_0(const float* x, void* out, int64_t n, const float* importance) {
  auto* y = static_cast<BlockQ4_0*>(out);
  const int64_t nb = n / kQK4_0;
  if (importance == nullptr) {
    for (int64_t i = 0; i < nb; ++i) {
      const float* xb = x + i * kQK4_0;
      // The largest-magnitude element maps to level -8 exactly.
      const float d = signed_absmax32(xb) / -8;
      const float id = d != 0.f ? 1.f / d : 0.f;
      y[i].d = f32_to_f16(d);
      for (int j = 0; j < 16; ++j) {
        const int q0 = std::min(15, static_cast<int>(trunc_to_i8(xb[j] * id + 8.5f)));
        const int q1 = std::min(15, static_cast<int>(trunc_to_i8(xb[j + 16] * id + 8.5f)));
        y[i].qs[j] = static_cast<uint8_t>(static_cast<uint8_t>(q0) | (static_cast<uint8_t>(q1) << 4));
      }
    }
    return;
  }
  const float sigma2 = row_sigma2(x, n);
  float weight[32];
  int8_t L[32];
  for (int64_t i = 0; i < nb; ++i) {
    const float* xb = x + i * kQK4_0;
    legacy_weights(xb, importance + i * kQK4_0, sigma2, weight);
    const float d = make_qx_quants(32, 8, xb, L, 1, weight);
    y[i].d = f32_to_f16(d);
    for (int j = 0; j < 16; ++j) y[i].qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
  }
}

void quantize_q4_1(const float* x, void* out, int64_t n, const float* importance) {
  auto* y = static_cast<BlockQ4_1*>(out);
  const int64_t nb = n / kQK4_1;
  if (importance == nullptr) {
    for (int64_t i = 0; i < nb; ++i) {
      const float* xb = x + i * kQK4_1;
      float min, max;
      min_max32(xb, &min, &max);
      const float d = (max - min) / 15;
      const float id = d != 0.f ? 1.f / d : 0.f;
      y[i].d = f32_to_f16(d);
      y[i].m = f32_to_f16(min);
      for (int j = 0; j < 16; ++j) {
        const int q0 = std::min(15, static_cast<int>(trunc_to_i8((xb[j] - min) * id + 0.5f)));
        const int q1 = std::min(15, static_cast<int>(trunc_to_i8((xb[j + 16] - min) * id + 0.5f)));
        y[i].qs[j] = static_cast<uint8_t>(static_cast<uint8_t>(q0) | (static_cast<uint8_t>(q1) << 4));
      }
    }
    return;
  }
  const float sigma2 = row_sigma2(x, n);
  float weight[32];
  uint8_t L[32], Laux[32];
  for (int64_t i = 0; i < nb; ++i) {
    const float* xb = x + i * kQK4_1;
    legacy_weights(xb, importance + i * kQK4_1, sigma2, weight);
    float min;
    const float d = make_qkx3_quants(32, 15, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, false);
    y[i].d = f32_to_f16(d);
    y[i].m = f32_to_f16(-min);
    for (int j = 0; j < 16; ++j) y[i].qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
  }
}

void quantize_q5_0(const float* x, void* out, int64_t n, const float* importance) {
  auto* y = static_cast<BlockQ5_0*>(out);
  const int64_t nb = n / kQK5_0;
  uint8_t L[32];
  if (importance == nullptr) {
    for (int64_t i = 0; i < nb; ++i) {
      const float* xb = x + i * kQK5_0;
      const float d = signed_absmax32(xb) / -16;
      const float id = d != 0.f ? 1.f / d : 0.f;
      y[i].d = f32_to_f16(d);
      for (int j = 0; j < 32; ++j)
        L[j] = static_cast<uint8_t>(std::min(31, static_cast<int>(trunc_to_i8(xb[j] * id + 16.5f))));
      pack_q5(L, y[i].qs, y[i].qh);
    }
    return;
  }
  const float sigma2 = row_sigma2(x, n);
  float weight[32];
  int8_t Ls[32];
  for (int64_t i = 0; i < nb; ++i) {
    const float* xb = x + i * kQK5_0;
    legacy_weights(xb, importance + i * kQK5_0, sigma2, weight);
    const float d = make_qx_quants(32, 16, xb, Ls, 1, weight);
    y[i].d = f32_to_f16(d);
    for (int j = 0; j < 32; ++j) L[j] = static_cast<uint8_t>(Ls[j]);
    pack_q5(L, y[i].qs, y[i].qh);
  }
}

void quantize_q5_1(const float* x, void* out, int64_t n, const float* importance) {
  auto* y = static_cast<BlockQ5_1*>(out);
  const int64_t nb = n / kQK5_1;
  uint8_t L[32];
  if (importance == nullptr) {
    for (int64_t i = 0; i < nb; ++i) {
      const float* xb = x + i * kQK5_1;
      float min, max;
      min_max32(xb, &min, &max);
      const float d = (max - min) / 31;
      const float id = d != 0.f ? 1.f / d : 0.f;
      y[i].d = f32_to_f16(d);
      y[i].m = f32_to_f16(min);
      for (int j = 0; j < 32; ++j) L[j] = trunc_to_u8((xb[j] - min) * id + 0.5f);
      pack_q5(L, y[i].qs, y[i].qh);
    }
    return;
  }
  const float sigma2 = row_sigma2(x, n);
  float weight[32];
  uint8_t Laux[32];
  for (int64_t i = 0; i < nb; ++i) {
    const float* xb = x + i * kQK5_1;
    legacy_weights(xb, importance + i * kQK5_1, sigma2, weight);
    float min;
    const float d = make_qkx3_quants(32, 31, xb, weight, L, &min, Laux, -0.9f, 0.05f, 36, false);
    y[i].d = f32_to_f16(d);
    y[i].m = f32_to_f16(-min);
    pack_q5(L, y[i].qs, y[i].qh);
  }
}

void quantize_q8_0(const float* x, void* out, int64_t n, const float* /*importance*/) {
  auto* y = static_cast<BlockQ8_0*>(out);
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    const float* xb = x + i * kQK8_0;
    float amax = 0.f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[i].d = f32_to_f16(d);
    for (int j = 0; j < 32; ++j) y[i].qs[j] = trunc_to_i8(std::round(xb[j] * id));
  }
}

void quantize_q8_1(const float* x, void* out, int64_t n, const float* /*importance*/) {
  auto* y = static_cast<BlockQ8_1*>(out);
  for (int64_t i = 0; i < n / kQK8_1; ++i) {
    const float* xb = x + i * kQK8_1;
    float amax = 0.f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127;
    const float id = d != 0.f ? 1.f / d : 0.f;
    y[i].d = f32_to_f16(d);
    int sum = 0;
    for (int j = 0; j < 32; ++j) {
      y[i].qs[j] = trunc_to_i8(std::round(xb[j] * id));
      sum += y[i].qs[j];
    }
    y[i].s = f32_to_f16(static_cast<float>(sum) * d);
  }
}

// Run-time activation quantizers (ggml-cpu's AVX from_float): id = 127/amax, round half even,
// saturating int32 -> int8 packs.
namespace {
template <typename Block>
float quantize_act_block(const float* xb, Block& b, int* sum) {
  float amax = 0.f;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(xb[j]));
  const float d = amax / 127.f;
  const float id = amax != 0.f ? 127.f / amax : 0.f;
  b.d = f32_to_f16(d);
  *sum = 0;
  for (int j = 0; j < 32; ++j) {
    const int32_t v = cvt_to_i32(std::nearbyint(xb[j] * id));
    *sum += v;
    b.qs[j] = static_cast<int8_t>(std::clamp(v, -128, 127));
  }
  return d;
}
}  // namespace

void quantize_row_q8_0(const float* x, void* out, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(out);
  int sum;
  for (int64_t i = 0; i < n / kQK8_0; ++i) quantize_act_block(x + i * kQK8_0, y[i], &sum);
}

void quantize_row_q8_1(const float* x, void* out, int64_t n) {
  auto* y = static_cast<BlockQ8_1*>(out);
  int sum;
  for (int64_t i = 0; i < n / kQK8_1; ++i) {
    const float d = quantize_act_block(x + i * kQK8_1, y[i], &sum);
    y[i].s = f32_to_f16(d * static_cast<float>(sum));
  }
}

void dequantize_q4_0(const void* in, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ4_0*>(in);
  for (int64_t i = 0; i < n / kQK4_0; ++i, y += 32) {
    const float d = f16_to_f32(b[i].d);
    for (int j = 0; j < 16; ++j) {
      y[j] = static_cast<float>((b[i].qs[j] & 0x0F) - 8) * d;
      y[j + 16] = static_cast<float>((b[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_q4_1(const void* in, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ4_1*>(in);
  for (int64_t i = 0; i < n / kQK4_1; ++i, y += 32) {
    const float d = f16_to_f32(b[i].d);
    const float m = f16_to_f32(b[i].m);
    for (int j = 0; j < 16; ++j) {
      y[j] = static_cast<float>(b[i].qs[j] & 0x0F) * d + m;
      y[j + 16] = static_cast<float>(b[i].qs[j] >> 4) * d + m;
    }
  }
}

namespace {
inline int q5_level(const uint8_t* qs, uint32_t qh, int j) {
  const int lo = j < 16 ? (qs[j] & 0x0F) : (qs[j - 16] >> 4);
  return lo | static_cast<int>(((qh >> j) & 1u) << 4);
}
}  // namespace

void dequantize_q5_0(const void* in, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ5_0*>(in);
  for (int64_t i = 0; i < n / kQK5_0; ++i, y += 32) {
    const float d = f16_to_f32(b[i].d);
    uint32_t qh;
    std::memcpy(&qh, b[i].qh, 4);
    for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(q5_level(b[i].qs, qh, j) - 16) * d;
  }
}

void dequantize_q5_1(const void* in, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ5_1*>(in);
  for (int64_t i = 0; i < n / kQK5_1; ++i, y += 32) {
    const float d = f16_to_f32(b[i].d);
    const float m = f16_to_f32(b[i].m);
    uint32_t qh;
    std::memcpy(&qh, b[i].qh, 4);
    for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(q5_level(b[i].qs, qh, j)) * d + m;
  }
}

void dequantize_q8_0(const void* in, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(in);
  for (int64_t i = 0; i < n / kQK8_0; ++i, y += 32) {
    const float d = f16_to_f32(b[i].d);
    for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(b[i].qs[j]) * d;
  }
}

void dequantize_q8_1(const void* in, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ8_1*>(in);
  for (int64_t i = 0; i < n / kQK8_1; ++i, y += 32) {
    const float d = f16_to_f32(b[i].d);
    for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(b[i].qs[j]) * d;
  }
}

}  // namespace insitu::ggml

// HQQ (Half-Quadratic Quantization): affine min/max initialisation refined by HQQ's proximal
// ("legacy") optimiser of the zero point under an lp (p = 0.7) error norm.
//
// insitu row format (kHqq4 / kHqq8): one block per group of 64 consecutive row elements,
// {f32 scale; f32 zero; u8 q[...]}, value = (q - zero) * scale; 4-bit codes are packed as the
// reference packs them along its group axis: byte k = q[k] << 4 | q[k + 32] (first half in the
// high nibble). 40 bytes / 64 = 5.0 bits/weight (hqq4), 72 / 64 = 9.0 (hqq8).
//
// The reference (mistral.rs ISQ) groups along axis 0 of a [64, numel/64] view of the flattened
// tensor, i.e. 64 elements strided by numel/64, which no row-local format can hold; its exact
// tensor layout is available through quantize_tensor_axis0 / dequantize_tensor_axis0 (UQFF
// interchange). Both use the same optimiser; the row format stops per group, the reference
// stops on the whole tensor's mean error.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace insitu::hqq {

inline constexpr int kGroup = 64;
inline constexpr int kDefaultSteps = 10;  // ISQ_HQQ_DEFAULT_OPT_STEPS

struct OptParams {
  float lp_norm = 0.7f;
  float beta = 10.f;
  float kappa = 1.01f;
  int iters = kDefaultSteps;
};

// HQQ's generalised soft-thresholding for the lp norm (p < 1):
// sign(e) * relu(|e| - |e|^(p-1) / beta); e = 0 stays 0. In the header so that the fast
// quantizer (quant/fast) runs the very same operations where it cannot prove the result is 0.
inline float shrink_lp(float e, float beta, float p) {
  const float a = std::fabs(e);
  if (a == 0.f) return 0.f;
  const float t = a - (1.f / beta) * std::pow(a, p - 1.f);
  return t > 0.f ? std::copysign(t, e) : 0.f;
}

// Generic row functions (bits 4 or 8). steps = 0 skips the optimiser (plain min/max rounding).
void quantize(const float* x, void* out, int64_t n, int bits, int steps);
void dequantize(const void* in, float* y, int64_t n, int bits);

// Registry row functions.
void quantize_hqq4(const float* x, void* out, int64_t n, const float* importance);
void quantize_hqq8(const float* x, void* out, int64_t n, const float* importance);
void dequantize_hqq4(const void* in, float* y, int64_t n);
void dequantize_hqq8(const void* in, float* y, int64_t n);

// The reference's tensor layout (axis 0, group 64): w_q is [64, N/64] u8 for 8 bits or
// [32, N/64] for 4 bits (rows g < 32 in the high nibble, g >= 32 in the low nibble of row g-32);
// scales (= 1/scale) and zeros are f32 [N/64].
struct AxisZeroTensor {
  int bits = 4;
  int64_t numel = 0;
  std::vector<uint8_t> w_q;
  std::vector<float> scales;
  std::vector<float> zeros;
};
AxisZeroTensor quantize_tensor_axis0(const float* w, int64_t numel, int bits, int steps);
void dequantize_tensor_axis0(const AxisZeroTensor& t, float* out);

}  // namespace insitu::hqq

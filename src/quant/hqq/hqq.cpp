#include "quant/hqq/hqq.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "core/error.h"

namespace insitu::hqq {
namespace {

void check_bits(int bits) {
  if (bits != 4 && bits != 8)
    throw Error(ErrorCode::kInvalidArgument, "hqq: unsupported bits " + std::to_string(bits));
}

inline float quant_level(float w, float scale, float zero, float max_v) {
  return std::clamp(std::round(w * scale + zero), 0.f, max_v);
}

// Initial (scale, zero) of a group: inverse scale max_v/(max-min), clamped to [0, 2e4].
void init_group(const float* w, int64_t count, int64_t stride, float max_v, float* scale,
                float* zero) {
  float mn = w[0], mx = w[0];
  for (int64_t i = 1; i < count; ++i) {
    mn = std::min(mn, w[i * stride]);
    mx = std::max(mx, w[i * stride]);
  }
  *scale = std::clamp(max_v / (mx - mn), 0.f, 2e4f);  // mx == mn -> inf -> 2e4
  *zero = -mn * *scale;
}

// One proximal iteration on a group; returns sum |w - w_r| (before the zero update).
float prox_step(const float* w, int64_t count, int64_t stride, float scale, float* zero,
                float max_v, float beta, float p) {
  double zsum = 0.0;
  float err = 0.f;
  for (int64_t i = 0; i < count; ++i) {
    const float x = w[i * stride];
    const float wq = quant_level(x, scale, *zero, max_v);
    const float wr = (wq - *zero) / scale;
    const float we = shrink_lp(x - wr, beta, p);
    zsum += wq - (x - we) * scale;
    err += std::fabs(x - wr);
  }
  *zero = static_cast<float>(zsum / static_cast<double>(count));
  return err;
}

// Sum |w - w_r| of a group at (scale, zero).
float group_l1(const float* w, float scale, float zero, float max_v) {
  float err = 0.f;
  for (int i = 0; i < kGroup; ++i)
    err += std::fabs(w[i] - (quant_level(w[i], scale, zero, max_v) - zero) / scale);
  return err;
}

// Row-format group: the reference's iteration, stopped per group; unlike the reference (which
// keeps the zero of its failing iteration) it returns the best zero it evaluated, including the
// one the last iteration produced.
void optimize_group(const float* w, float max_v, int steps, float* scale, float* zero) {
  init_group(w, kGroup, 1, max_v, scale, zero);
  const OptParams opt;
  float best = 1e30f, best_zero = *zero;
  float beta = opt.beta;
  bool stopped = false;
  for (int it = 0; it < steps; ++it) {
    const float before = *zero;
    const float err = prox_step(w, kGroup, 1, *scale, zero, max_v, beta, opt.lp_norm);
    beta *= opt.kappa;
    if (err < best) {
      best = err;
      best_zero = before;
    } else {
      stopped = true;
      break;
    }
  }
  if (!stopped && steps > 0 && group_l1(w, *scale, *zero, max_v) < best) return;
  *zero = best_zero;
}

}  // namespace

void quantize(const float* x, void* out, int64_t n, int bits, int steps) {
  check_bits(bits);
  const float max_v = static_cast<float>((1 << bits) - 1);
  const int code_bytes = kGroup * bits / 8;
  auto* p = static_cast<uint8_t*>(out);
  uint8_t q[kGroup];
  for (int64_t g = 0; g < n / kGroup; ++g, x += kGroup, p += 8 + code_bytes) {
    float scale, zero;
    optimize_group(x, max_v, steps, &scale, &zero);
    for (int j = 0; j < kGroup; ++j) q[j] = static_cast<uint8_t>(quant_level(x[j], scale, zero, max_v));
    const float inv = 1.f / scale;  // stored as the dequantization multiplier
    std::memcpy(p, &inv, 4);
    std::memcpy(p + 4, &zero, 4);
    if (bits == 8) {
      std::memcpy(p + 8, q, kGroup);
    } else {
      for (int k = 0; k < kGroup / 2; ++k) p[8 + k] = static_cast<uint8_t>((q[k] << 4) | q[k + 32]);
    }
  }
}

void dequantize(const void* in, float* y, int64_t n, int bits) {
  check_bits(bits);
  const int code_bytes = kGroup * bits / 8;
  const auto* p = static_cast<const uint8_t*>(in);
  for (int64_t g = 0; g < n / kGroup; ++g, y += kGroup, p += 8 + code_bytes) {
    float scale, zero;
    std::memcpy(&scale, p, 4);
    std::memcpy(&zero, p + 4, 4);
    for (int j = 0; j < kGroup; ++j) {
      const int q = bits == 8 ? p[8 + j] : (j < 32 ? p[8 + j] >> 4 : p[8 + j - 32] & 0xF);
      y[j] = (static_cast<float>(q) - zero) * scale;
    }
  }
}

void quantize_hqq4(const float* x, void* out, int64_t n, const float*) {
  quantize(x, out, n, 4, kDefaultSteps);
}
void quantize_hqq8(const float* x, void* out, int64_t n, const float*) {
  quantize(x, out, n, 8, kDefaultSteps);
}
void dequantize_hqq4(const void* in, float* y, int64_t n) { dequantize(in, y, n, 4); }
void dequantize_hqq8(const void* in, float* y, int64_t n) { dequantize(in, y, n, 8); }

AxisZeroTensor quantize_tensor_axis0(const float* w, int64_t numel, int bits, int steps) {
  check_bits(bits);
  if (numel % kGroup != 0)
    throw Error(ErrorCode::kInvalidArgument,
                "hqq: tensor of " + std::to_string(numel) + " elements is not a multiple of 64");
  const int64_t cols = numel / kGroup;  // group c = elements c, c + cols, c + 2*cols, ...
  const float max_v = static_cast<float>((1 << bits) - 1);
  std::vector<float> scale(cols), zero(cols);
  for (int64_t c = 0; c < cols; ++c) init_group(w + c, kGroup, cols, max_v, &scale[c], &zero[c]);
  // The reference stops all groups together on the tensor's mean |W - W_r|; the zero update of
  // the failing iteration is kept.
  OptParams opt;
  float best = 1e4f, beta = opt.beta;
  for (int it = 0; it < steps; ++it) {
    double err = 0.0;
    for (int64_t c = 0; c < cols; ++c)
      err += prox_step(w + c, kGroup, cols, scale[c], &zero[c], max_v, beta, opt.lp_norm);
    beta *= opt.kappa;
    const float mean_err = static_cast<float>(err / static_cast<double>(numel));
    if (mean_err < best)
      best = mean_err;
    else
      break;
  }
  AxisZeroTensor t;
  t.bits = bits;
  t.numel = numel;
  t.scales.resize(cols);
  t.zeros = zero;
  t.w_q.assign(static_cast<size_t>(bits == 8 ? numel : numel / 2), 0);
  for (int64_t c = 0; c < cols; ++c) {
    t.scales[c] = 1.f / scale[c];
    for (int g = 0; g < kGroup; ++g) {
      const auto q = static_cast<uint8_t>(quant_level(w[g * cols + c], scale[c], zero[c], max_v));
      if (bits == 8)
        t.w_q[g * cols + c] = q;
      else if (g < 32)
        t.w_q[g * cols + c] = static_cast<uint8_t>(t.w_q[g * cols + c] | (q << 4));
      else
        t.w_q[(g - 32) * cols + c] = static_cast<uint8_t>(t.w_q[(g - 32) * cols + c] | q);
    }
  }
  return t;
}

void dequantize_tensor_axis0(const AxisZeroTensor& t, float* out) {
  const int64_t cols = t.numel / kGroup;
  for (int g = 0; g < kGroup; ++g) {
    for (int64_t c = 0; c < cols; ++c) {
      int q;
      if (t.bits == 8)
        q = t.w_q[g * cols + c];
      else
        q = g < 32 ? t.w_q[g * cols + c] >> 4 : t.w_q[(g - 32) * cols + c] & 0xF;
      out[g * cols + c] = (static_cast<float>(q) - t.zeros[c]) * t.scales[c];
    }
  }
}

}  // namespace insitu::hqq

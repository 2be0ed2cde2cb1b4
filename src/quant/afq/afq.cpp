#include "quant/afq/afq.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/half.h"

namespace insitu::afq {
namespace {

void check_params(int bits, int group) {
  if (!valid_bits(bits) || !valid_group(group))
    throw Error(ErrorCode::kInvalidArgument, "afq: unsupported bits " + std::to_string(bits) +
                                                 " / group size " + std::to_string(group));
}

// (scale, bias) of one group, in f32, per `method`.
void group_params(const float* x, int group, int n_bins, Method method, float* scale, float* bias) {
  if (method == Method::kMinMax) {
    float mn = x[0], mx = x[0];
    for (int j = 1; j < group; ++j) {
      mn = std::min(mn, x[j]);
      mx = std::max(mx, x[j]);
    }
    params_from_range(mn, mx, n_bins, method, scale, bias);
    return;
  }
  // MLX: the max starts at 0 (so it is >= 0), the min at +inf.
  float mn = std::numeric_limits<float>::infinity(), mx = 0.f;
  for (int j = 0; j < group; ++j) {
    mn = std::min(mn, x[j]);
    mx = std::max(mx, x[j]);
  }
  params_from_range(mn, mx, n_bins, method, scale, bias);
}

}  // namespace

void params_from_range(float mn, float mx, int n_bins, Method method, float* scale, float* bias) {
  if (method == Method::kMinMax) {
    *scale = (mx - mn) < 1e-12f ? 1.f : (mx - mn) / static_cast<float>(n_bins);
    *bias = mn;
    return;
  }
  const float s = std::max((mx - mn) / static_cast<float>(n_bins), 1e-7f);
  const bool min_edge = std::fabs(mn) > std::fabs(mx);
  float sc = min_edge ? s : -s;
  const float edge = min_edge ? mn : mx;
  const float q0 = std::round(edge / sc);
  if (q0 == 0.f) {
    *scale = sc;
    *bias = 0.f;
  } else {
    // Stretch the step so that the edge is level 0 and zero is level -q0, both exact.
    sc = edge / q0;
    *scale = sc;
    *bias = edge;
  }
}

void pack_codes(const uint8_t* codes, int64_t count, int bits, uint8_t* out) {
  std::memset(out, 0, static_cast<size_t>(count * bits / 8));
  for (int64_t j = 0; j < count; ++j) {
    const int64_t bit = j * bits;
    const uint32_t v = static_cast<uint32_t>(codes[j]) << (bit % 8);
    out[bit / 8] = static_cast<uint8_t>(out[bit / 8] | (v & 0xFF));
    if ((bit % 8) + bits > 8) out[bit / 8 + 1] = static_cast<uint8_t>(out[bit / 8 + 1] | (v >> 8));
  }
}

void unpack_codes(const uint8_t* in, int64_t count, int bits, uint8_t* codes) {
  const uint32_t mask = (1u << bits) - 1;
  for (int64_t j = 0; j < count; ++j) {
    const int64_t bit = j * bits;
    uint32_t v = in[bit / 8];
    if ((bit % 8) + bits > 8) v |= static_cast<uint32_t>(in[bit / 8 + 1]) << 8;
    codes[j] = static_cast<uint8_t>((v >> (bit % 8)) & mask);
  }
}

void quantize(const float* x, void* out, int64_t n, int bits, int group, Method method) {
  check_params(bits, group);
  const int n_bins = (1 << bits) - 1;
  auto* p = static_cast<uint8_t*>(out);
  uint8_t codes[128];
  for (int64_t g = 0; g < n / group; ++g, x += group, p += block_bytes(bits, group)) {
    float scale, bias;
    group_params(x, group, n_bins, method, &scale, &bias);
    const uint16_t s16 = f32_to_f16(scale), b16 = f32_to_f16(bias);
    // Levels are chosen against the stored (f16) scale and bias, which the dequantizer uses.
    const float s = f16_to_f32(s16), b = f16_to_f32(b16);
    for (int j = 0; j < group; ++j) {
      const float q = s != 0.f ? std::round((x[j] - b) / s) : 0.f;
      codes[j] = static_cast<uint8_t>(std::clamp(q, 0.f, static_cast<float>(n_bins)));
    }
    std::memcpy(p, &s16, 2);
    std::memcpy(p + 2, &b16, 2);
    pack_codes(codes, group, bits, p + 4);
  }
}

void dequantize(const void* in, float* y, int64_t n, int bits, int group) {
  check_params(bits, group);
  const auto* p = static_cast<const uint8_t*>(in);
  uint8_t codes[128];
  for (int64_t g = 0; g < n / group; ++g, y += group, p += block_bytes(bits, group)) {
    uint16_t s16, b16;
    std::memcpy(&s16, p, 2);
    std::memcpy(&b16, p + 2, 2);
    const float scale = f16_to_f32(s16), bias = f16_to_f32(b16);
    unpack_codes(p + 4, group, bits, codes);
    for (int j = 0; j < group; ++j) y[j] = static_cast<float>(codes[j]) * scale + bias;
  }
}

#define INSITU_AFQ_ROW_FNS(B)                                                               \
  void quantize_afq##B(const float* x, void* out, int64_t n, const float*) {                \
    quantize(x, out, n, B, kDefaultGroup, default_method(B));                                  \
  }                                                                                         \
  void dequantize_afq##B(const void* in, float* y, int64_t n) {                             \
    dequantize(in, y, n, B, kDefaultGroup);                                                 \
  }
INSITU_AFQ_ROW_FNS(2)
INSITU_AFQ_ROW_FNS(3)
INSITU_AFQ_ROW_FNS(4)
INSITU_AFQ_ROW_FNS(6)
INSITU_AFQ_ROW_FNS(8)
#undef INSITU_AFQ_ROW_FNS

}  // namespace insitu::afq

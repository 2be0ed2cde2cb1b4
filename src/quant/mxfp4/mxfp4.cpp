#include "quant/mxfp4/mxfp4.h"

#include <algorithm>
#include <cmath>

namespace insitu::mxfp4 {

int shared_exponent(float amax, ExponentRule rule) {
  if (amax == 0.f) return rule == ExponentRule::kOcp ? 0 : 127;  // ggml's / mistral.rs' choice
  // log2 of a float is exact enough here: floor() only needs the binade, which frexp gives
  // exactly (amax = f * 2^k with f in [0.5, 1) -> floor(log2(amax)) = k - 1).
  int k;
  if (rule == ExponentRule::kOcp) {
    std::frexp(amax, &k);
    return std::clamp(k - 1 - 2 + 127, 0, 254);
  }
  std::frexp(amax / 6.f, &k);
  return std::clamp(k - 1 + 127, 0, 254);
}

uint8_t e2m1_code(float v) {
  const float a = std::fabs(v);
  uint8_t c;
  if (a < 0.25f) c = 0;
  else if (a < 0.75f) c = 1;
  else if (a < 1.25f) c = 2;
  else if (a < 1.75f) c = 3;
  else if (a < 2.5f) c = 4;
  else if (a < 3.5f) c = 5;
  else if (a < 5.f) c = 6;
  else c = 7;  // saturates at 6 (also inf); NaN inputs land here too
  return static_cast<uint8_t>(c | (v < 0 ? 8 : 0));
}

void quantize_with_rule(const float* x, void* out, int64_t n, ExponentRule rule) {
  auto* y = static_cast<BlockMxfp4*>(out);
  for (int64_t i = 0; i < n / kBlock; ++i, x += kBlock) {
    float amax = 0.f;
    for (int j = 0; j < kBlock; ++j) amax = std::max(amax, std::fabs(x[j]));
    const int e = shared_exponent(amax, rule);
    y[i].e = static_cast<uint8_t>(e);
    // Dividing by a power of two is exact: scale by 2^(127-e) with ldexp.
    for (int j = 0; j < kBlock / 2; ++j) {
      const uint8_t lo = e2m1_code(std::ldexp(x[j], 127 - e));
      const uint8_t hi = e2m1_code(std::ldexp(x[j + 16], 127 - e));
      y[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void quantize_mxfp4(const float* x, void* out, int64_t n, const float* /*importance*/) {
  quantize_with_rule(x, out, n, kDefaultRule);
}

namespace {
inline float e2m1_value(uint8_t code) {
  const float m = kE2M1[code & 7];
  return (code & 8) ? -m : m;
}
}  // namespace

void dequantize_mxfp4(const void* in, float* y, int64_t n) {
  const auto* b = static_cast<const BlockMxfp4*>(in);
  for (int64_t i = 0; i < n / kBlock; ++i, y += kBlock) {
    const int e = b[i].e;
    for (int j = 0; j < kBlock / 2; ++j) {
      y[j] = std::ldexp(e2m1_value(b[i].qs[j] & 0xF), e - 127);
      y[j + 16] = std::ldexp(e2m1_value(b[i].qs[j] >> 4), e - 127);
    }
  }
}

void from_split_tensors(const uint8_t* blocks, const uint8_t* scales, int64_t n, void* out) {
  auto* y = static_cast<BlockMxfp4*>(out);
  for (int64_t i = 0; i < n / kBlock; ++i) {
    y[i].e = scales[i];
    for (int j = 0; j < kBlock / 2; ++j) y[i].qs[j] = 0;
    for (int k = 0; k < kBlock; ++k) {
      const int64_t g = i * kBlock + k;
      const uint8_t code = (g % 2 == 0) ? (blocks[g / 2] & 0xF) : (blocks[g / 2] >> 4);
      y[i].qs[k % 16] = static_cast<uint8_t>(y[i].qs[k % 16] | (code << (k < 16 ? 0 : 4)));
    }
  }
}

void to_split_tensors(const void* in, int64_t n, uint8_t* blocks, uint8_t* scales) {
  const auto* b = static_cast<const BlockMxfp4*>(in);
  for (int64_t g = 0; g < n / 2; ++g) blocks[g] = 0;
  for (int64_t i = 0; i < n / kBlock; ++i) {
    scales[i] = b[i].e;
    for (int k = 0; k < kBlock; ++k) {
      const uint8_t code = k < 16 ? (b[i].qs[k] & 0xF) : (b[i].qs[k - 16] >> 4);
      const int64_t g = i * kBlock + k;
      blocks[g / 2] = static_cast<uint8_t>(blocks[g / 2] | (code << ((g % 2) * 4)));
    }
  }
}

}  // namespace insitu::mxfp4

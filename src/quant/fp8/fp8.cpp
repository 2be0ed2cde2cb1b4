#include "quant/fp8/fp8.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/half.h"

namespace insitu::fp8 {

float e4m3_to_f32(uint8_t code) {
  const bool neg = (code & 0x80) != 0;
  const int exp = (code >> 3) & 0xF;
  const int mant = code & 0x7;
  float v;
  if (exp == 0xF && mant == 0x7) {
    v = std::numeric_limits<float>::quiet_NaN();
  } else if (exp == 0) {
    v = std::ldexp(static_cast<float>(mant), -9);  // subnormal: mant * 2^-6 / 8
  } else {
    v = std::ldexp(static_cast<float>(8 + mant), exp - 7 - 3);
  }
  return neg ? -v : v;
}

uint8_t f32_to_e4m3(float x) {
  const uint8_t sign = std::signbit(x) ? 0x80 : 0x00;
  if (std::isnan(x)) return static_cast<uint8_t>(sign | 0x7F);
  const float a = std::fabs(x);
  if (a >= kE4M3Max) return static_cast<uint8_t>(sign | 0x7E);  // saturate (also inf)
  if (a < 0.015625f) {  // below 2^-6: subnormal grid of 2^-9, exact scaling then RNE
    const int q = static_cast<int>(std::nearbyint(a * 512.f));  // q == 8 is 2^-6 = code 0x08
    return static_cast<uint8_t>(sign | q);
  }
  int e;
  const float frac = std::frexp(a, &e);  // a = frac * 2^e, frac in [0.5, 1)
  // 1.mmm: 4 significant bits -> integer in [8, 16) after scaling by 16; RNE.
  int m = static_cast<int>(std::nearbyint(frac * 16.f));
  int exp = e - 1 + 7;
  if (m == 16) {
    m = 8;
    ++exp;
  }
  // a < 448 so rounding can reach at most 448 = 0x7E (exp 15, mant 6).
  return static_cast<uint8_t>(sign | (exp << 3) | (m - 8));
}

void quantize_fp8(const float* x, void* out, int64_t n, const float* /*importance*/) {
  auto* y = static_cast<BlockFp8*>(out);
  for (int64_t i = 0; i < n / kFp8Block; ++i, x += kFp8Block) {
    float amax = 0.f;
    for (int j = 0; j < kFp8Block; ++j) amax = std::max(amax, std::fabs(x[j]));
    // The block maximum maps to 448; the scale is kept in f32 so nothing else rounds.
    const float d = amax / kE4M3Max;
    const float id = amax > 0.f ? kE4M3Max / amax : 0.f;
    y[i].d = d;
    for (int j = 0; j < kFp8Block; ++j) y[i].q[j] = f32_to_e4m3(x[j] * id);
  }
}

void dequantize_fp8(const void* in, float* y, int64_t n) {
  const auto* b = static_cast<const BlockFp8*>(in);
  for (int64_t i = 0; i < n / kFp8Block; ++i)
    for (int j = 0; j < kFp8Block; ++j) *y++ = e4m3_to_f32(b[i].q[j]) * b[i].d;
}

void quantize_f8q8(const float* x, void* out, int64_t n, const float* /*importance*/) {
  auto* y = static_cast<BlockF8Q8*>(out);
  for (int64_t i = 0; i < n / kF8Q8Block; ++i, x += kF8Q8Block) {
    float amax = 0.f;
    for (int j = 0; j < kF8Q8Block; ++j) amax = std::max(amax, std::fabs(x[j]));
    // As mistral.rs: levels use the exact d, only the stored scale goes through e4m3.
    const float d = amax / 127.f;
    y[i].d = f32_to_e4m3(d * kE4M3Max);
    for (int j = 0; j < kF8Q8Block; ++j) {
      const float q = d != 0.f ? std::round(x[j] / d) : 0.f;
      y[i].q[j] = static_cast<int8_t>(std::clamp(q, -127.f, 127.f));
    }
  }
}

const std::array<float, 256>& f8q8_block_scales() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) t[i] = e4m3_to_f32(static_cast<uint8_t>(i)) / kE4M3Max;
    return t;
  }();
  return table;
}

void dequantize_f8q8(const void* in, float* y, int64_t n) {
  const auto* b = static_cast<const BlockF8Q8*>(in);
  for (int64_t i = 0; i < n / kF8Q8Block; ++i) {
    const float d = e4m3_to_f32(b[i].d) / kE4M3Max;
    for (int j = 0; j < kF8Q8Block; ++j) *y++ = static_cast<float>(b[i].q[j]) * d;
  }
}

float quantize_tensor_per_tensor(const float* x, int64_t n, uint8_t* codes) {
  float amax = 0.f;
  for (int64_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(bf16_to_f32(f32_to_bf16(x[i]))));
  const float scale = std::clamp(kE4M3Max / amax, -kE4M3Max, kE4M3Max);  // amax 0 -> 448
  for (int64_t i = 0; i < n; ++i) codes[i] = f32_to_e4m3(bf16_to_f32(f32_to_bf16(x[i])) * scale);
  return scale;
}

void dequantize_block_scaled(const uint8_t* w, int64_t rows, int64_t cols, const float* scale_inv,
                             int bs0, int bs1, float* out) {
  if (bs0 <= 0 || bs1 <= 0)
    throw Error(ErrorCode::kInvalidArgument, "fp8 weight_block_size must be positive");
  const int64_t scale_cols = (cols + bs1 - 1) / bs1;
  for (int64_t r = 0; r < rows; ++r) {
    const float* srow = scale_inv + (r / bs0) * scale_cols;
    for (int64_t c = 0; c < cols; ++c)
      out[r * cols + c] = e4m3_to_f32(w[r * cols + c]) * srow[c / bs1];
  }
}

void block_scaled_to_rows(const uint8_t* w, int64_t rows, int64_t cols, const float* scale_inv,
                          int bs0, int bs1, void* out_rows) {
  if (bs0 <= 0 || bs1 <= 0 || bs1 % kFp8Block != 0 || cols % kFp8Block != 0)
    throw Error(ErrorCode::kUnsupported, "fp8 block-scaled weight [" + std::to_string(rows) + ", " +
                                             std::to_string(cols) + "] with block [" +
                                             std::to_string(bs0) + ", " + std::to_string(bs1) +
                                             "] cannot be stored as 1x128 fp8 rows");
  const int64_t scale_cols = (cols + bs1 - 1) / bs1;
  auto* y = static_cast<BlockFp8*>(out_rows);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; c += kFp8Block, ++y) {
      y->d = scale_inv[(r / bs0) * scale_cols + c / bs1];
      std::memcpy(y->q, w + r * cols + c, kFp8Block);
    }
  }
}

}  // namespace insitu::fp8

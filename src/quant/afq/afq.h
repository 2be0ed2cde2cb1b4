// AFQ: MLX-compatible affine quantization, w = q * scale + bias per group of consecutive
// elements along the row (the input dimension).
//
// insitu row format: one block per group, {f16 scale; f16 bias; u8 q[group*bits/8]}, where q
// is the little-endian bit stream of the group's codes (code j at bit offset j*bits), exactly
// the bytes of MLX's packed u32 words for that group (3- and 6-bit codes straddle bytes).
// Registry types afq2..afq8 use group 64 (the reference's ISQ default): 4 + 8*bits bytes per 64
// weights = bits + 0.5 bits/weight. Groups of 32 and 128 are supported through the generic API
// (for checkpoints); f16 scale/bias keep f32-computed scales closer than bf16 would, and bf16
// checkpoint scales convert exactly whenever they are in f16's normal range.
#pragma once

#include <cstdint>

namespace insitu::afq {

inline constexpr int kDefaultGroup = 64;

// Which algorithm picks (scale, bias) per group.
enum class Method {
  kMlx,     // MLX's kernel: zero exactly representable, the larger-magnitude edge reproduced
  kMinMax,  // the reference's CPU/CUDA path: bias = min, scale = (max - min) / (2^bits - 1)
};
// The registry uses whichever measured lower RMSE (N(0,1) and the demo model's weights, see
// docs/quantization.md): MLX's zero-exact scales at 2-3 bits, plain min/max at 4-8 bits.
inline constexpr Method default_method(int bits) {
  return bits <= 3 ? Method::kMlx : Method::kMinMax;
}

inline constexpr bool valid_bits(int bits) {
  return bits == 2 || bits == 3 || bits == 4 || bits == 6 || bits == 8;
}
inline constexpr bool valid_group(int group) { return group == 32 || group == 64 || group == 128; }
// Bytes of one group's block in the row format.
inline constexpr int block_bytes(int bits, int group) { return 4 + group * bits / 8; }

// (scale, bias) in f32 of a group whose min and max, as `method` scans them (kMinMax: std::min /
// std::max chains from the first element; kMlx: the min from +inf, the max from +0), are mn
// and mx. Shared with the fast quantizer (quant/fast), which finds mn and mx by reductions.
void params_from_range(float mn, float mx, int n_bins, Method method, float* scale, float* bias);

// Generic row functions; n must be a multiple of group. Throws Error(kInvalidArgument) on bad
// bits/group.
void quantize(const float* x, void* out, int64_t n, int bits, int group, Method method);
void dequantize(const void* in, float* y, int64_t n, int bits, int group);

// Bit-stream packing shared with MLX's u32 layout: `count` codes -> count*bits/8 bytes.
void pack_codes(const uint8_t* codes, int64_t count, int bits, uint8_t* out);
void unpack_codes(const uint8_t* in, int64_t count, int bits, uint8_t* codes);

// Registry row functions (group 64, default_method(bits)).
void quantize_afq2(const float* x, void* out, int64_t n, const float* importance);
void quantize_afq3(const float* x, void* out, int64_t n, const float* importance);
void quantize_afq4(const float* x, void* out, int64_t n, const float* importance);
void quantize_afq6(const float* x, void* out, int64_t n, const float* importance);
void quantize_afq8(const float* x, void* out, int64_t n, const float* importance);
void dequantize_afq2(const void* in, float* y, int64_t n);
void dequantize_afq3(const void* in, float* y, int64_t n);
void dequantize_afq4(const void* in, float* y, int64_t n);
void dequantize_afq6(const void* in, float* y, int64_t n);
void dequantize_afq8(const void* in, float* y, int64_t n);

}  // namespace insitu::afq

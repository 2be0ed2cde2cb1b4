// FP8 E4M3 ("e4m3fn": no infinities, NaN = S.1111.111, max finite 448) conversions, insitu's
// fp8 row format, block-scaled checkpoint dequantization, and F8Q8.
//
// fp8 rows (QuantType::kFp8): blocks of 128 elements {f32 d; u8 q[128]}, value = e4m3(q) * d,
// 8.25 bits/weight. The reference stores one scale per tensor, which a row-blocked format cannot
// carry; 1x128 blocks hold it losslessly (every block repeats it), also hold 128x128
// block-scaled checkpoints losslessly (a block's scale is repeated down its 128 rows), and let
// our quantizer use a tighter per-block absmax.
//
// F8Q8 rows (kF8Q8, mistral.rs BlockF8Q8): blocks of 32 {u8 d_f8; i8 q[32]}, 8.25 bits/weight,
// value = q * e4m3(d_f8) / 448.
#pragma once

#include <array>
#include <cstdint>

namespace insitu::fp8 {

inline constexpr int kFp8Block = 128;
inline constexpr int kF8Q8Block = 32;
inline constexpr float kE4M3Max = 448.f;

struct BlockFp8 {
  float d;  // dequantization scale (multiplies the decoded e4m3 value)
  uint8_t q[kFp8Block];
};
static_assert(sizeof(BlockFp8) == 132);

struct BlockF8Q8 {
  uint8_t d;  // e4m3 code of (amax/127) * 448
  int8_t q[kF8Q8Block];
};
static_assert(sizeof(BlockF8Q8) == 33);

// Exact decode of all 256 codes (0x7F / 0xFF are NaN).
float e4m3_to_f32(uint8_t code);
// The dequantization scale of an f8q8 block with scale code d, e4m3(d) / 448, for all 256
// codes (kernels look it up per block).
const std::array<float, 256>& f8q8_block_scales();
// Round to nearest even; |x| beyond 448 (and infinities) saturate to +-448; NaN -> 0x7F|sign.
uint8_t f32_to_e4m3(float x);

// Registry row functions.
void quantize_fp8(const float* x, void* out, int64_t n, const float* importance);
void dequantize_fp8(const void* in, float* y, int64_t n);
void quantize_f8q8(const float* x, void* out, int64_t n, const float* importance);
void dequantize_f8q8(const void* in, float* y, int64_t n);

// The reference's per-tensor ISQ quantizer: scale = clamp(448/absmax, -448, 448) over the whole
// tensor (x first rounded to bf16, as the reference converts W to BF16),
// codes[i] = e4m3(bf16(x[i]) * scale). Returns scale; the dequantization scale is 1/scale.
float quantize_tensor_per_tensor(const float* x, int64_t n, uint8_t* codes);

// Block-scaled checkpoints (`weight_block_size` [bs0, bs1], e.g. DeepSeek's 128x128): weight
// e4m3 [rows, cols], scale_inv f32 [ceil(rows/bs0), ceil(cols/bs1)]; out = e4m3(w) * scale_inv.
void dequantize_block_scaled(const uint8_t* w, int64_t rows, int64_t cols, const float* scale_inv,
                             int bs0, int bs1, float* out);
// The same checkpoint re-expressed as fp8 rows: lossless (codes copied, each 1x128 block takes
// its 128x128 block's scale). Needs cols % 128 == 0 and bs1 % 128 == 0, else Error(kUnsupported).
void block_scaled_to_rows(const uint8_t* w, int64_t rows, int64_t cols, const float* scale_inv,
                          int bs0, int bs1, void* out_rows);

}  // namespace insitu::fp8

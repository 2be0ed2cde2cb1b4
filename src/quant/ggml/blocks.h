// ggml's block layouts (GGUF on-disk format), shared by the CPU reference code and the
// ISA-specific kernels. Field order and sizes are the file format: never reorder.
//
// Scales marked f16 are IEEE binary16 bit patterns (core/half.h converts them). Every struct is
// byte-aligned except block_q8_K (4-byte float first), so arrays of blocks can be addressed at
// any row offset that is a multiple of the block size in bytes.
#pragma once

#include <cstdint>

namespace insitu::ggml {

inline constexpr int kQK4_0 = 32;
inline constexpr int kQK4_1 = 32;
inline constexpr int kQK5_0 = 32;
inline constexpr int kQK5_1 = 32;
inline constexpr int kQK8_0 = 32;
inline constexpr int kQK8_1 = 32;
inline constexpr int kQK_K = 256;        // K-quant super-block
inline constexpr int kKScaleBytes = 12;  // packed 6-bit scales of q4_K / q5_K (and q3_K's 16)

// 4.5 bits/weight: value = (q - 8) * d. qs: low nibbles = elements 0..15, high = 16..31.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK4_0 / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// 5.0 bits/weight: value = q * d + m.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK4_1 / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// 5.5 bits/weight: value = (q - 16) * d; qh bit j is the 5th bit of element j (LE u32).
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK5_0 / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// 6.0 bits/weight: value = q * d + m.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK5_1 / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// 8.5 bits/weight: value = q * d.
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0) == 34);

// 9.0 bits/weight: value = q * d; s = f16(d * sum(qs)) with d the f32 scale before rounding.
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK8_1];
};
static_assert(sizeof(BlockQ8_1) == 36);

// 2.625 bits/weight. 16 sub-blocks of 16: scales[j] = scale (low nibble) | min (high nibble);
// value = d * (sc & 15) * q - dmin * (sc >> 4). qs holds 4 2-bit values per byte: byte l of
// each 32-byte half carries elements l, l+32, l+64, l+96 of that 128-element half.
struct BlockQ2K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d;
  uint16_t dmin;
};
static_assert(sizeof(BlockQ2K) == 84);

// 3.4375 bits/weight. Low 2 bits in qs (as q2_K), 3rd bit in hmask (bit b of hmask[m] is
// element 32*b + m); sixteen 6-bit signed scales (offset 32) packed into 12 bytes.
struct BlockQ3K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];
  uint16_t d;
};
static_assert(sizeof(BlockQ3K) == 110);

// 4.5 bits/weight. 8 sub-blocks of 32, each with a 6-bit scale and 6-bit min (12 bytes);
// value = d * sc * q - dmin * m. qs: 32 bytes per 64 elements, low nibble first 32.
struct BlockQ4K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4K) == 144);

// 5.5 bits/weight: q4_K plus a 5th bit per element in qh (bit 2i / 2i+1 for 64-chunk i).
struct BlockQ5K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5K) == 176);

// 6.5625 bits/weight. 16 sub-blocks of 16 with int8 scales; value = d * sc * (q - 32).
struct BlockQ6K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6K) == 210);

// 9.125 bits/weight; the activation type of K-quant dot products. d is f32;
// bsums[j] = sum of qs[16j .. 16j+15].
struct BlockQ8K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};
static_assert(sizeof(BlockQ8K) == 292);

}  // namespace insitu::ggml

// AVX-512 block decoders for every quantized registry type, shared by the AVX-512 GEMV/GEMM and
// the AMX GEMM. Call only when active_isa() >= kAvx512 (defined in an AVX-512 translation unit).
//
// Decoded "code" form of blocks [b0, b0 + nb) of one row, for every type but fp8:
//   value[j] = (codes[j] - zero) * scale[j / 16] + offset[j / 16]   (j counted from block b0)
// with codes u8 (0..255), a per-type constant integer zero point (128 for int8 levels, 8 for
// q4_0, 32 for q6_K, ...) and one f32 (scale, offset) pair per 16 elements: per-block minimums
// and zero points (q4_1, K-quant mins, AFQ bias, HQQ zero) are the offset, sub-block scales of
// 32/64/256 elements repeat over their 16-groups. Kernels subtract `zero` in integers, so a
// format's own levels are never biased in floating point: (code - zero) * scale reproduces the
// reference dequantizer exactly where it computes level * d (q4_0, q5_0, q8_*, q3k, q6k, f8q8,
// mxfp4), and fma(code, scale, offset) is within one rounding of it elsewhere.
#pragma once

#include <cstdint>

#include "quant/registry.h"

namespace insitu::kernels::avx512 {

inline constexpr int kDecodeGroup = 16;  // elements per (scale, offset) pair

using DecodeCodesFn = void (*)(const uint8_t* row, int64_t b0, int64_t nb, uint8_t* codes,
                               float* scale, float* offset);
using DecodeValuesFn = void (*)(const uint8_t* row, int64_t b0, int64_t nb, float* out);

struct QuantDecoder {
  int block;              // elements per block
  int block_bytes;        // bytes per block
  int zero;               // integer zero point of the codes (0..255)
  DecodeCodesFn codes;    // nullptr where values are not affine in a small code (fp8)
  DecodeValuesFn values;  // every type: the dequantized f32 values
  int code_max;           // largest code the decoder writes (sizes integer accumulators)
  bool has_offset;        // false: every offset is 0 and `codes` leaves the offset array
                          // untouched (readers must skip the offset term)
};

const QuantDecoder& quant_decoder(QuantType t);

}  // namespace insitu::kernels::avx512

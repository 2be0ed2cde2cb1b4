// AVX2 row dequantizers for the AVX2 quantized matmul (quant_avx2.cpp). Call only when
// active_isa() >= kAvx2 (defined in an AVX2 translation unit).
//
// Each decodes blocks [b0, b0 + nb) of one row (in the registry's row format) into nb * block
// f32 values, BIT-IDENTICAL to the registry's reference dequantizer (quant_info(t).dequantize):
// the vector code repeats the reference's float operations in its order (q * d + m for the
// legacy types with a minimum, (d * sc) * q - dmin * m for the K-quants, ...), each product
// rounded on its own (never fused into an FMA). The ggml types q4_0, q4_1, q5_0, q5_1, q8_0,
// q2k, q3k, q4k, q5k and q6k are vectorised; every other type gets a wrapper around its
// reference dequantizer, so the lookup covers the whole registry.
#pragma once

#include <cstdint>

#include "quant/registry.h"

namespace insitu::kernels::avx2 {

using DequantBlocksFn = void (*)(const uint8_t* row, int64_t b0, int64_t nb, float* out);

DequantBlocksFn avx2_dequantizer(QuantType t);
// Whether avx2_dequantizer(t) is a vector decoder (false: the reference wrapper).
bool avx2_dequantizer_is_vector(QuantType t);

}  // namespace insitu::kernels::avx2

// AVX2 row dequantizers for the AVX2 quantized matmul (quant_avx2.cpp). Call only when
// active_isa() >= kAvx2 (defined in AVX2 translation units).
//
// Each decodes blocks [b0, b0 + nb) of one row (in the registry's row format) into nb * block
// f32 values, BIT-IDENTICAL to the registry's reference dequantizer (quant_info(t).dequantize;
// NaN payloads of f16 scale fields aside, which F16C quiets):
// the vector code repeats the reference's float operations in its order (q * d + m for the
// legacy types with a minimum, (d * sc) * q - dmin * m for the K-quants, (q - zero) * scale for
// HQQ, ...), each product rounded on its own (never fused into an FMA). Every quantized type of
// the registry has one: the ggml types in quant_decode_avx2.cpp, AFQ, HQQ, fp8, f8q8 and MXFP4
// in quant_decode_avx2_afq_hqq_fp.cpp.
#pragma once

#include <cstdint>

#include "quant/registry.h"

namespace insitu::kernels::avx2 {

using DequantBlocksFn = void (*)(const uint8_t* row, int64_t b0, int64_t nb, float* out);

// nullptr for the dense types (f32/f16/bf16), which have no blocks to decode.
DequantBlocksFn avx2_dequantizer(QuantType t);

// The non-ggml half of the lookup (quant_decode_avx2_afq_hqq_fp.cpp); nullptr for other types.
DequantBlocksFn afq_hqq_fp_dequantizer(QuantType t);

}  // namespace insitu::kernels::avx2

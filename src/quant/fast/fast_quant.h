// Fast row quantizers: the same bytes as the registry's scalar reference quantizers
// (quant_info(t).quantize, bit-exact with ggml for the ggml types), several times faster.
//
// quantize_row_fast dispatches on the active ISA level (core/cpu_features.h): at kAvx512 and
// above the ggml types (q4_0 q4_1 q5_0 q5_1 q8_0 q8_1 q2k..q8k), hqq4/hqq8, mxfp4, afq2..afq8, fp8
// and f8q8 run 16 blocks, sub-blocks or groups in the 16 lanes of AVX-512 (or a block's elements in
// two, four or eight vectors), each lane performing the reference's IEEE operations in the
// reference's order; every other type and ISA level runs the reference itself. So the output never
// depends on the machine, only the speed does.
#pragma once

#include <cstdint>

#include "quant/registry.h"

namespace insitu {

// True when quantize_row_fast(t, ...) runs a vector kernel at the active ISA level.
bool has_fast_quantizer(QuantType t);

// Same contract and output as quantize_row(t, x, out, n, importance).
void quantize_row_fast(QuantType t, const float* x, void* out, int64_t n,
                       const float* importance = nullptr);

// Converts n elements of a dense row (t = kF32, kF16 or kBF16) to f32 with exactly the
// results of core/half.h; vectorized at kAvx512. Throws Error(kInvalidArgument) for other types.
void dense_row_to_f32(QuantType t, const void* in, float* out, int64_t n);

}  // namespace insitu

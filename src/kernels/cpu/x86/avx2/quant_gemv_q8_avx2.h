// Exact decode GEMV for AVX2 hosts (no AVX-512) for the types whose codes are bytes times one
// scale per block: q8_0, q8_1, q8k and f8q8 (signed codes), afq8 and hqq8 (unsigned, plus a bias
// per group) and fp8 (e4m3 codes converted in registers; blocks with zeros, subnormals or NaN
// through the exact block decoder). 8-bit types run exact under the default precision
// (docs/quantization.md). Each 8 codes
// are widened to f32 in registers and dotted with x by FMA, the block's scale applied once per
// block and row, instead of being decoded to an f32 buffer first (quant_avx2.cpp's general path).
// Call only when active_isa() >= kAvx2.
#pragma once

#include <cstdint>

#include "kernels/cpu/quant_kernels.h"

namespace insitu::kernels::avx2 {

bool quant_gemv_q8_supported(QuantType type);
// Rows [r0, r1) for p.m <= 4 activation rows (p.x itself; no preparation).
void quant_gemv_q8(const QuantProblem& p, int64_t r0, int64_t r1);

}  // namespace insitu::kernels::avx2

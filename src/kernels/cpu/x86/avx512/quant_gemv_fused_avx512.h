// Register-decoding AVX-512 VNNI GEMV for the ggml types without per-block minimums (q4_0,
// q5_0, q8_0, q8_1, q8k) and the K-quants q2k..q6k.
//
// The general path (quant_gemv_avx512.cpp) decodes every type into a buffer of u8 codes and one
// (scale, offset) pair per 16 elements, then dots the buffer; for these types the store and
// reload of that buffer and the per-block scalar scale handling cost as much as the dot itself.
// Here each 64-column chunk is decoded straight into registers (byte permutes, GF(2) affine bit
// moves) with the per-lane weight scales built by vector ops, then fed to the same integer dot
// (quant_gemv_common_avx512.h), so results are identical in kind and error to the general path;
// in rounded mode q2k and q3k use their own activation grouping (quant_gemv_fused_grouped_
// rounding). Call only when active_isa() >= kAvx512.
#pragma once

#include <cstdint>

#include "kernels/cpu/quant_kernels.h"

namespace insitu::kernels::avx512 {

// True when `type` with `cols` columns has a fused path.
bool quant_gemv_fused_supported(QuantType type, int64_t cols);
// The rounding the fused path applies to `type` in rounded mode when it is not the general
// path's kActivationLane8 (activations then prepared by prepare_row_grouped), else kNone.
OperandRounding quant_gemv_fused_grouped_rounding(QuantType type);
// The integer zero point the grouped kernel of `type` expects prepare_row_grouped to correct for.
int quant_gemv_fused_grouped_zero(QuantType type);
// Rows [r0, r1) for p.m <= 4 activation rows already prepared into p.xprep (the general
// path's layout). Requires quant_gemv_fused_supported(p.type, p.cols).
void quant_gemv_fused(const QuantProblem& p, int64_t r0, int64_t r1);

}  // namespace insitu::kernels::avx512

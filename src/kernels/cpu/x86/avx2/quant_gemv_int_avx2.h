// Integer decode GEMV for AVX2 hosts (no AVX-512) in rounded mode: the activations are rounded
// per 4-element lane to 8 bits (OperandRounding::kActivationLane8, as the AVX-512 kernel does)
// and each 32 weight codes meet them in vpmaddubsw + vpmaddwd, one int32 per lane, instead of
// being dequantized to f32 for FMAs. q4_0, q2_K..q6_K (the common types below 8 bits, and
// the output matrix of the 2- to 4-bit mixes), q4_1, q5_0 and q5_1 (also the K-quants' shape
// fallbacks for rows that are not a multiple of 256), mxfp4, hqq4 and afq2..afq6 (codes <= 63
// keep the 16-bit pair sums of vpmaddubsw below 2 * 63 * 127); other types and exact mode keep the
// dequantizing path of quant_avx2.cpp. Call only when active_isa() >= kAvx2.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/quant_kernels.h"

namespace insitu::kernels::avx2 {

bool quant_gemv_int_supported(QuantType type);
// Prepared activations: per row, int8 digits [cols] | lane scales f32 [cols / 4] | zero-point
// corrections int32 [cols / 4] | sums of the rounded x per 16 columns f32 [cols / 16].
size_t quant_gemv_int_prep_bytes(int64_t m, int64_t cols);
void quant_gemv_int_prepare(QuantType type, const float* x, int64_t cols, int64_t i0, int64_t i1,
                            void* out);
// Rows [r0, r1) for p.m <= 4 rows prepared in p.xprep; requires quant_gemv_int_supported.
void quant_gemv_int(const QuantProblem& p, int64_t r0, int64_t r1);

}  // namespace insitu::kernels::avx2

// Row quantizers compiled for AVX-512, with the QuantizeRowFn signature of the registry. Each
// produces exactly the bytes of the scalar reference (quant/ggml, quant/hqq, quant/mxfp4,
// quant/afq, quant/fp8) for every input; call them only when active_isa() >= kAvx512
// (quant/fast/fast_quant.h dispatches). No intrinsics here, so baseline translation units may
// include this header.
#pragma once

#include <cstdint>

namespace insitu::fastq::avx512 {

void quantize_q4_0(const float* x, void* out, int64_t n, const float* importance);
void quantize_q4_1(const float* x, void* out, int64_t n, const float* importance);
void quantize_q5_0(const float* x, void* out, int64_t n, const float* importance);
void quantize_q5_1(const float* x, void* out, int64_t n, const float* importance);
void quantize_q8_0(const float* x, void* out, int64_t n, const float* importance);
void quantize_q8_1(const float* x, void* out, int64_t n, const float* importance);
void quantize_q2_K(const float* x, void* out, int64_t n, const float* importance);
void quantize_q3_K(const float* x, void* out, int64_t n, const float* importance);
void quantize_q4_K(const float* x, void* out, int64_t n, const float* importance);
void quantize_q5_K(const float* x, void* out, int64_t n, const float* importance);
void quantize_q6_K(const float* x, void* out, int64_t n, const float* importance);
void quantize_q8_K(const float* x, void* out, int64_t n, const float* importance);
void quantize_hqq4(const float* x, void* out, int64_t n, const float* importance);
void quantize_hqq8(const float* x, void* out, int64_t n, const float* importance);
void quantize_mxfp4(const float* x, void* out, int64_t n, const float* importance);
void quantize_afq2(const float* x, void* out, int64_t n, const float* importance);
void quantize_afq3(const float* x, void* out, int64_t n, const float* importance);
void quantize_afq4(const float* x, void* out, int64_t n, const float* importance);
void quantize_afq6(const float* x, void* out, int64_t n, const float* importance);
void quantize_afq8(const float* x, void* out, int64_t n, const float* importance);
void quantize_fp8(const float* x, void* out, int64_t n, const float* importance);
void quantize_f8q8(const float* x, void* out, int64_t n, const float* importance);

// out[i] = fp8::f32_to_e4m3(x[i]) for i < n (the conversion of the two fp8 kernels).
void f32_to_e4m3_row(const float* x, uint8_t* out, int64_t n);

// Dense rows to f32 with the exact results of core/half.h's scalar conversions.
void bf16_to_f32_row(const uint16_t* in, float* out, int64_t n);
void f16_to_f32_row(const uint16_t* in, float* out, int64_t n);

}  // namespace insitu::fastq::avx512

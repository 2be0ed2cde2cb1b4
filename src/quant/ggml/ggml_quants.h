// Reference (scalar) quantizers and dequantizers of ggml's block types, bit-exact with ggml's
// ggml_quantize_chunk / to_float (llama.cpp c392e50, 2025-02-20).
//
// Weight quantizers take one row of n elements (n a multiple of the block size) and an optional
// importance vector of n weights (an imatrix row; null = none). With importance, ggml's
// *_impl paths run, which also use statistics of the whole row (sigma2), so rows must be passed
// whole. Without it the *_ref paths run, which are block-local.
#pragma once

#include <cstdint>

namespace insitu::ggml {

void quantize_q4_0(const float* x, void* out, int64_t n, const float* importance);
void quantize_q4_1(const float* x, void* out, int64_t n, const float* importance);
void quantize_q5_0(const float* x, void* out, int64_t n, const float* importance);
void quantize_q5_1(const float* x, void* out, int64_t n, const float* importance);
void quantize_q8_0(const float* x, void* out, int64_t n, const float* importance);  // ignores it
void quantize_q8_1(const float* x, void* out, int64_t n, const float* importance);  // ignores it
void quantize_q2_K(const float* x, void* out, int64_t n, const float* importance);
void quantize_q3_K(const float* x, void* out, int64_t n, const float* importance);
void quantize_q4_K(const float* x, void* out, int64_t n, const float* importance);
void quantize_q5_K(const float* x, void* out, int64_t n, const float* importance);
void quantize_q6_K(const float* x, void* out, int64_t n, const float* importance);
void quantize_q8_K(const float* x, void* out, int64_t n, const float* importance);  // ignores it

void dequantize_q4_0(const void* in, float* y, int64_t n);
void dequantize_q4_1(const void* in, float* y, int64_t n);
void dequantize_q5_0(const void* in, float* y, int64_t n);
void dequantize_q5_1(const void* in, float* y, int64_t n);
void dequantize_q8_0(const void* in, float* y, int64_t n);
void dequantize_q8_1(const void* in, float* y, int64_t n);
void dequantize_q2_K(const void* in, float* y, int64_t n);
void dequantize_q3_K(const void* in, float* y, int64_t n);
void dequantize_q4_K(const void* in, float* y, int64_t n);
void dequantize_q5_K(const void* in, float* y, int64_t n);
void dequantize_q6_K(const void* in, float* y, int64_t n);
void dequantize_q8_K(const void* in, float* y, int64_t n);

// Activation quantizers: what ggml's CPU backend does at run time (`from_float`) before a dot
// product. q8_0 and q8_1 differ from the weight quantizers above: the inverse scale is
// 127/amax (not 1/d) and rounding is half-to-even (not roundf's half-away-from-zero).
void quantize_row_q8_0(const float* x, void* out, int64_t n);
void quantize_row_q8_1(const float* x, void* out, int64_t n);
void quantize_row_q8_K(const float* x, void* out, int64_t n);

}  // namespace insitu::ggml

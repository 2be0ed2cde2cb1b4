// Vector primitives on f32 arrays used by the model forward pass (norms, activations,
// attention). Each dispatches on active_isa() internally; all accumulate in f32 or better.
#pragma once

#include <cstdint>

namespace insitu {

float dot_f32(const float* a, const float* b, int64_t n);
// y += a * x
void axpy_f32(float a, const float* x, float* y, int64_t n);
void scale_f32(float* x, float s, int64_t n);
void add_f32(const float* a, const float* b, float* out, int64_t n);  // out may alias a or b
// out = x / sqrt(mean(x^2) + eps) * (weight_offset + w); weight_offset is 1 for Gemma norms.
// out may alias x (in-place normalisation is used by the forward pass).
void rmsnorm_f32(const float* x, const float* w, float eps, float weight_offset, float* out,
                 int64_t n);
// In-place numerically stable softmax over n values.
void softmax_f32(float* x, int64_t n);
// gate[i] = act(gate[i]) * up[i]; act = silu (x*sigmoid(x)) or gelu with tanh approximation.
void silu_mul_f32(float* gate, const float* up, int64_t n);
void gelu_tanh_mul_f32(float* gate, const float* up, int64_t n);

}  // namespace insitu

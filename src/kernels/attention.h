// Attention inner loops over a key/value cache, batched over the query heads that share one
// key/value head (grouped-query attention), so each cached row is loaded once per group.
// Rows of the cache are `stride` floats apart (the cache is [position][kv_heads * head_dim]).
// Dispatches on active_isa() once per call; f32 accumulation in every path.
#pragma once

#include <cstdint>

namespace insitu {

// s[g * n + j] = q_g . k_j for g < n_q (query heads, hd floats each, contiguous at q) and
// j < n (key row j at k + j * stride).
void attention_scores_f32(const float* q, int64_t n_q, int64_t hd, const float* k, int64_t stride,
                          int64_t n, float* s);

// out[g * hd + c] = sum_{j < n} p[g * p_stride + j] * v_j[c] (value row j at v + j * stride);
// out is overwritten.
void attention_values_f32(const float* p, int64_t p_stride, int64_t n_q, int64_t hd, const float* v,
                          int64_t stride, int64_t n, float* out);

namespace kernels {
// Per-ISA implementations behind the two functions above (avx512: hd a multiple of 16).
void attention_scores_avx512(const float* q, int64_t n_q, int64_t hd, const float* k,
                             int64_t stride, int64_t n, float* s);
void attention_values_avx512(const float* p, int64_t p_stride, int64_t n_q, int64_t hd,
                             const float* v, int64_t stride, int64_t n, float* out);
}  // namespace kernels

}  // namespace insitu

// AVX-512 attention loops (kernels/attention.h), hd a multiple of 16.
// Scores, few query rows (decode: the heads of one kv head): 16 cache rows at a time, one
// accumulator vector per row, then a 4-round shuffle tree (30 shuffles, 15 adds) reduces the 16
// vectors to the 16 dot products of one vector.
// Scores, many query rows (prefill: a block of tokens): each block of 16 keys is transposed once
// (hd vectors of 16 keys) and every query row takes 16 scores as one vector, hd FMAs with its
// elements broadcast, 4 rows at a time: no reduction, and each key vector loaded once per 4
// rows instead of once per row.
// Values: each value row is loaded once and feeds up to 4 query heads' accumulators, with
// the head dimension in blocks of 64 columns (4 vectors per head in registers).
#include "kernels/attention.h"
#include "kernels/cpu/x86/avx512/simd512.h"

namespace insitu::kernels {
namespace {

// r[j] = sum of the lanes of a[j], j < 16.
inline __m512 reduce16(__m512 a[16]) {
  __m512 s[8], u[4], x[2];
#pragma GCC unroll 8
  // Round 1: 256-bit halves; s[i] holds a[2i] in its low half and a[2i + 1] in its high half.
  for (int i = 0; i < 8; ++i)
    s[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0x44),
                         _mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0xEE));
#pragma GCC unroll 4
  // Round 2: 128-bit quarters; u[i] quarter m holds a[4i + m].
  for (int i = 0; i < 4; ++i)
    u[i] = _mm512_add_ps(_mm512_shuffle_f32x4(s[2 * i], s[2 * i + 1], 0x88),
                         _mm512_shuffle_f32x4(s[2 * i], s[2 * i + 1], 0xDD));
#pragma GCC unroll 2
  // Round 3: pairs of lanes; x[i] quarter k holds a[8i + k] (lanes 0-1) and a[8i + 4 + k].
  for (int i = 0; i < 2; ++i)
    x[i] = _mm512_add_ps(_mm512_shuffle_ps(u[2 * i], u[2 * i + 1], 0x44),
                         _mm512_shuffle_ps(u[2 * i], u[2 * i + 1], 0xEE));
  // Round 4: lane 4k + m holds the sum of a[4m + k]; permute to natural order.
  const __m512 r =
      _mm512_add_ps(_mm512_shuffle_ps(x[0], x[1], 0x88), _mm512_shuffle_ps(x[0], x[1], 0xDD));
  const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm512_permutexvar_ps(idx, r);
}

template <int GS>
void values_group(const float* p, int64_t p_stride, int64_t n, int64_t hd, const float* v,
                  int64_t stride, float* out) {
  for (int64_t c0 = 0; c0 < hd; c0 += 64) {
    const int nv = hd - c0 >= 64 ? 4 : static_cast<int>((hd - c0) / 16);
    __m512 acc[GS][4];
#pragma GCC unroll 4
    for (int g = 0; g < GS; ++g)
#pragma GCC unroll 4
      for (int t = 0; t < 4; ++t) acc[g][t] = _mm512_setzero_ps();
    if (nv == 4) {
      for (int64_t j = 0; j < n; ++j) {
        const float* vj = v + j * stride + c0;
        const __m512 v0 = _mm512_loadu_ps(vj), v1 = _mm512_loadu_ps(vj + 16),
                     v2 = _mm512_loadu_ps(vj + 32), v3 = _mm512_loadu_ps(vj + 48);
#pragma GCC unroll 4
        for (int g = 0; g < GS; ++g) {
          const __m512 w = _mm512_set1_ps(p[g * p_stride + j]);
          acc[g][0] = _mm512_fmadd_ps(w, v0, acc[g][0]);
          acc[g][1] = _mm512_fmadd_ps(w, v1, acc[g][1]);
          acc[g][2] = _mm512_fmadd_ps(w, v2, acc[g][2]);
          acc[g][3] = _mm512_fmadd_ps(w, v3, acc[g][3]);
        }
      }
    } else {
      for (int64_t j = 0; j < n; ++j) {
        const float* vj = v + j * stride + c0;
#pragma GCC unroll 4
        for (int g = 0; g < GS; ++g) {
          const __m512 w = _mm512_set1_ps(p[g * p_stride + j]);
          for (int t = 0; t < nv; ++t)
            acc[g][t] = _mm512_fmadd_ps(w, _mm512_loadu_ps(vj + 16 * t), acc[g][t]);
        }
      }
    }
#pragma GCC unroll 4
    for (int g = 0; g < GS; ++g)
      for (int t = 0; t < nv; ++t) _mm512_storeu_ps(out + g * hd + c0 + 16 * t, acc[g][t]);
  }
}

// Rows [r, r + R) of the transposed-key scores: kt holds hd vectors of 16 keys.
template <int R>
inline void scores_rows(const float* q, int64_t hd, const __m512* kt, int64_t r, int64_t n,
                        int64_t j0, __mmask16 mask, float* s) {
  __m512 acc[R];
#pragma GCC unroll 4
  for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t c = 0; c < hd; ++c) {
    const __m512 kv = kt[c];
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i)
      acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(q[(r + i) * hd + c]), kv, acc[i]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < R; ++i) _mm512_mask_storeu_ps(s + (r + i) * n + j0, mask, acc[i]);
}

void scores_transposed(const float* q, int64_t n_q, int64_t hd, const float* k, int64_t stride,
                       int64_t n, float* s) {
  constexpr int64_t kMaxHd = 512;
  alignas(64) __m512 kt[kMaxHd];
  for (int64_t j0 = 0; j0 < n; j0 += 16) {
    const int nj = n - j0 >= 16 ? 16 : static_cast<int>(n - j0);
    for (int64_t c0 = 0; c0 < hd; c0 += 16) {
      __m512i t[16];
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j)
        t[j] = j < nj ? _mm512_loadu_si512(k + (j0 + j) * stride + c0) : _mm512_setzero_si512();
      transpose16x16_epi32(t);
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) kt[c0 + i] = _mm512_castsi512_ps(t[i]);
    }
    const __mmask16 mask = tail_mask16(nj);
    int64_t r = 0;
    for (; r + 4 <= n_q; r += 4) scores_rows<4>(q, hd, kt, r, n, j0, mask, s);
    for (; r < n_q; ++r) scores_rows<1>(q, hd, kt, r, n, j0, mask, s);
  }
}

}  // namespace

void attention_scores_avx512(const float* q, int64_t n_q, int64_t hd, const float* k,
                             int64_t stride, int64_t n, float* s) {
  // The transpose (4 x 64 shuffles per 16 keys at hd 64) pays once it serves 8 or more rows.
  if (n_q >= 8 && hd <= 512) return scores_transposed(q, n_q, hd, k, stride, n, s);
  for (int64_t j0 = 0; j0 < n; j0 += 16) {
    const int nj = n - j0 >= 16 ? 16 : static_cast<int>(n - j0);
    for (int64_t g = 0; g < n_q; ++g) {
      const float* qg = q + g * hd;
      __m512 acc[16];
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) acc[j] = _mm512_setzero_ps();
      for (int64_t c = 0; c < hd; c += 16) {
        const __m512 qv = _mm512_loadu_ps(qg + c);
#pragma GCC unroll 16
        for (int j = 0; j < 16; ++j)
          if (j < nj)
            acc[j] = _mm512_fmadd_ps(qv, _mm512_loadu_ps(k + (j0 + j) * stride + c), acc[j]);
      }
      _mm512_mask_storeu_ps(s + g * n + j0, tail_mask16(nj), reduce16(acc));
    }
  }
}

void attention_values_avx512(const float* p, int64_t p_stride, int64_t n_q, int64_t hd,
                             const float* v, int64_t stride, int64_t n, float* out) {
  for (int64_t g0 = 0; g0 < n_q; g0 += 4) {
    const float* pg = p + g0 * p_stride;
    float* og = out + g0 * hd;
    switch (n_q - g0 >= 4 ? 4 : n_q - g0) {
      case 1: values_group<1>(pg, p_stride, n, hd, v, stride, og); break;
      case 2: values_group<2>(pg, p_stride, n, hd, v, stride, og); break;
      case 3: values_group<3>(pg, p_stride, n, hd, v, stride, og); break;
      default: values_group<4>(pg, p_stride, n, hd, v, stride, og); break;
    }
  }
}

}  // namespace insitu::kernels

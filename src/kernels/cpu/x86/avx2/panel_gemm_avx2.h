// The AVX2 prefill GEMMs' common part (dense_avx2.cpp, quant_avx2.cpp): weights as a panel of
// kPanelRows rows stored column-major (column k's 16 weights contiguous at panel + 16k), swept
// by an outer-product microkernel. Include only from AVX2 translation units.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace insitu::kernels {
namespace {

constexpr int kPanelRows = 16;
constexpr int64_t kPanelSegCols = 256;  // panel columns per sweep: 16 KiB of f32 stays in L1
constexpr int kPanelActs = 6;           // activation rows per microkernel call

// 8 x 8 floats transposed in registers: r[i] (row i, 8 columns) -> r[c] (column c, 8 rows).
inline void transpose8x8(__m256 (&r)[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int h = 0; h < 2; ++h) {  // rows 0..3, then 4..7
    u[4 * h] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
    u[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
    u[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
    u[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
    r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
  }
}

// Panel columns [k, k + 8) from 16 row vectors: rows[i] holds row i's 8 columns.
inline void store_panel_columns(__m256 (&rows)[2][8], float* panel, int64_t k) {
  for (int h = 0; h < 2; ++h) {
    transpose8x8(rows[h]);
    for (int c = 0; c < 8; ++c) _mm256_storeu_ps(panel + (k + c) * kPanelRows + 8 * h, rows[h][c]);
  }
}

// y rows a < A (stride ys), lanes < nr of the kPanelRows: y = acc[a], or y += acc[a] with add.
template <int A>
inline void store_panel_tile(const __m256 (&acc)[A][2], float* y, int64_t ys, int nr, bool add) {
  alignas(32) static constexpr int32_t kLanes[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                                     8, 9, 10, 11, 12, 13, 14, 15};
#pragma GCC unroll 6
  for (int a = 0; a < A; ++a)
#pragma GCC unroll 2
    for (int v = 0; v < 2; ++v) {
      float* out = y + a * ys + 8 * v;
      __m256 val = acc[a][v];
      if (nr == kPanelRows) {
        if (add) val = _mm256_add_ps(val, _mm256_loadu_ps(out));
        _mm256_storeu_ps(out, val);
      } else {  // lanes 8v + l < nr
        const __m256i mask =
            _mm256_cmpgt_epi32(_mm256_set1_epi32(nr),
                               _mm256_load_si256(reinterpret_cast<const __m256i*>(kLanes + 8 * v)));
        if (add) val = _mm256_add_ps(val, _mm256_maskload_ps(out, mask));
        _mm256_maskstore_ps(out, mask, val);
      }
    }
}

// Outer-product microkernel: A <= 6 activation rows (x, stride xs) times the panel's 16 weight
// rows over n columns: per column, two 8-row weight vectors and A broadcasts feed 2A FMAs into
// 2A accumulators (12 of the 16 ymm at A = 6). Unrolled by 4 columns: without it GCC's loop
// overhead held the quantized GEMM at ~80 GFLOP/s per core on Zen 5, with it 95-101 (~90% of
// the FMA peak); the dot-product kernel before it (8-lane partial dots, 6 loads per 8 FMAs)
// ran at 70.
template <int A>
void panel_block(const float* panel, const float* x, int64_t xs, int64_t n, float* y, int64_t ys,
                 int nr, bool add) {
  __m256 acc[A][2];
#pragma GCC unroll 6
  for (int a = 0; a < A; ++a) acc[a][0] = acc[a][1] = _mm256_setzero_ps();
#pragma GCC unroll 4
  for (int64_t k = 0; k < n; ++k) {
    const __m256 w0 = _mm256_loadu_ps(panel + k * kPanelRows);
    const __m256 w1 = _mm256_loadu_ps(panel + k * kPanelRows + 8);
#pragma GCC unroll 6
    for (int a = 0; a < A; ++a) {
      const __m256 xb = _mm256_broadcast_ss(x + a * xs + k);
      acc[a][0] = _mm256_fmadd_ps(xb, w0, acc[a][0]);
      acc[a][1] = _mm256_fmadd_ps(xb, w1, acc[a][1]);
    }
  }
  store_panel_tile<A>(acc, y, ys, nr, add);
}

// y[i * ys + j] = sum_k x[i * K + k] * w_j[k] for m activation rows and the panel's first nr
// rows (K columns). The panel is swept in kPanelSegCols-column segments: one segment stays in L1
// while every activation row passes over it, kPanelActs at a time. A segment's sums start at
// zero in registers and are added to y, so no output sums more than kPanelSegCols products in
// one chain.
inline void panel_sweep(const float* panel, const float* x, int64_t K, int64_t m, float* y,
                        int64_t ys, int nr) {
  using Block = void (*)(const float*, const float*, int64_t, int64_t, float*, int64_t, int, bool);
  static constexpr Block kBlocks[kPanelActs + 1] = {nullptr,        panel_block<1>, panel_block<2>,
                                                    panel_block<3>, panel_block<4>, panel_block<5>,
                                                    panel_block<6>};
  for (int64_t k0 = 0; k0 < K; k0 += kPanelSegCols) {
    const int64_t n = std::min(kPanelSegCols, K - k0);
    for (int64_t i0 = 0; i0 < m; i0 += kPanelActs) {
      const int64_t na = std::min<int64_t>(kPanelActs, m - i0);
      kBlocks[na](panel + k0 * kPanelRows, x + i0 * K + k0, K, n, y + i0 * ys, ys, nr, k0 > 0);
    }
  }
}

}  // namespace
}  // namespace insitu::kernels

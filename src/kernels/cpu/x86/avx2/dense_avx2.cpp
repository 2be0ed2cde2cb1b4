// AVX2/FMA/F16C dense matmul kernels: GEMV for decode and an f32-FMA GEMM for prefill, for
// hosts without AVX-512. Same structure as the AVX-512 kernels with 8-lane vectors and the
// 16 ymm register budget (GEMM register tile 6 x 16).
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/activation_groups.h"
#include "kernels/cpu/dense_kernels.h"
#include "kernels/cpu/x86/avx2/panel_gemm_avx2.h"
#include "kernels/cpu/x86/avx2/simd256.h"

namespace insitu::kernels {
namespace {

// Widen 8 weights at column c to f32. `load_part` handles the last n < 8 columns by copying
// them into a zero-padded buffer first (no reads past the end of the row).
struct LoadF32 {
  static __m256 load(const uint8_t* row, int64_t c) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + c);
  }
  static __m256 load_part(const uint8_t* row, int64_t c, int64_t n) {
    float buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t u = 0; u < n; ++u) buf[u] = reinterpret_cast<const float*>(row)[c + u];
    return _mm256_loadu_ps(buf);
  }
};

template <bool kIsF16>
struct LoadHalf {
  static __m256 widen(__m128i h) {
    if constexpr (kIsF16) {
      return _mm256_cvtph_ps(h);
    } else {
      return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
  }
  static __m256 load(const uint8_t* row, int64_t c) {
    return widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c)));
  }
  static __m256 load_part(const uint8_t* row, int64_t c, int64_t n) {
    uint16_t buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t u = 0; u < n; ++u) buf[u] = reinterpret_cast<const uint16_t*>(row)[c + u];
    return widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(buf)));
  }
};
using LoadF16 = LoadHalf<true>;
using LoadBF16 = LoadHalf<false>;

inline __m256 load_x_part(const float* x, int64_t n) {
  float buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t u = 0; u < n; ++u) buf[u] = x[u];
  return _mm256_loadu_ps(buf);
}

// ---- GEMV: R weight rows x M activation rows, 8 columns per step.
template <int M, int R, class L>
inline void gemv_block(const DenseProblem& p, int64_t r) {
  const int64_t K = p.cols;
  const int64_t kmain = K & ~int64_t{7};
  const uint8_t* wr[R];
#pragma GCC unroll 16
  for (int j = 0; j < R; ++j) wr[j] = p.w + static_cast<size_t>(r + j) * p.row_bytes;
  __m256 acc[R][M];
#pragma GCC unroll 16
  for (int j = 0; j < R; ++j)
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) acc[j][i] = _mm256_setzero_ps();
  for (int64_t c = 0; c < kmain; c += 8) {
    __m256 xv[M];
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) xv[i] = _mm256_loadu_ps(p.x + i * K + c);
#pragma GCC unroll 16
    for (int j = 0; j < R; ++j) {
      const __m256 wv = L::load(wr[j], c);
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i) acc[j][i] = _mm256_fmadd_ps(wv, xv[i], acc[j][i]);
    }
  }
  if (kmain < K) {
    __m256 xv[M];
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) xv[i] = load_x_part(p.x + i * K + kmain, K - kmain);
#pragma GCC unroll 16
    for (int j = 0; j < R; ++j) {
      const __m256 wv = L::load_part(wr[j], kmain, K - kmain);
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i) acc[j][i] = _mm256_fmadd_ps(wv, xv[i], acc[j][i]);
    }
  }
#pragma GCC unroll 16
  for (int j = 0; j < R; ++j)
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) p.y[i * p.rows + r + j] = hsum8(acc[j][i]);
}

template <int M, class L>
void gemv_m(const DenseProblem& p, int64_t r0, int64_t r1) {
  constexpr int kRows = 3;  // 3 x 4 accumulators + 4 activations <= 16 ymm
  int64_t r = r0;
  for (; r + kRows <= r1; r += kRows) gemv_block<M, kRows, L>(p, r);
  for (; r < r1; ++r) gemv_block<M, 1, L>(p, r);
}

template <class L>
void gemv(const DenseProblem& p, int64_t r0, int64_t r1, void*) {
  for_each_activation_group(
      p, [&](auto m, const DenseProblem& q) { gemv_m<decltype(m)::value, L>(q, r0, r1); });
}

// ---- GEMM: panels of 16 weight rows transposed to [K][16] f32, swept by panel_sweep
// (panel_gemm_avx2.h: register tile 6 x 16, shared with the quantized GEMM).

template <class L>
void pack_panel(const DenseProblem& p, int64_t r, int nvalid, float* panel) {
  const int64_t K = p.cols, kmain = K / 8 * 8;
  const uint8_t* wr[kPanelRows];
  for (int j = 0; j < kPanelRows; ++j)
    wr[j] = j < nvalid ? p.w + static_cast<size_t>(r + j) * p.row_bytes : nullptr;
  const auto column8 = [&](int j, int64_t k) {
    if (!wr[j]) return _mm256_setzero_ps();
    return k < kmain ? L::load(wr[j], k) : L::load_part(wr[j], k, K - k);
  };
  for (int64_t k = 0; k < kmain; k += 8) {
    __m256 rows[2][8];
    for (int j = 0; j < kPanelRows; ++j) rows[j / 8][j % 8] = column8(j, k);
    store_panel_columns(rows, panel, k);
  }
  if (kmain < K) {  // the last K - kmain columns, through a zero-padded 8-column block
    alignas(32) float tail[8 * kPanelRows];
    __m256 rows[2][8];
    for (int j = 0; j < kPanelRows; ++j) rows[j / 8][j % 8] = column8(j, kmain);
    store_panel_columns(rows, tail, 0);
    std::copy_n(tail, (K - kmain) * kPanelRows, panel + kmain * kPanelRows);
  }
}

template <class L>
void gemm(const DenseProblem& p, int64_t r0, int64_t r1, void* scratch) {
  float* panel = static_cast<float*>(scratch);
  for (int64_t r = r0; r < r1; r += kPanelRows) {
    const int nvalid = static_cast<int>(std::min<int64_t>(kPanelRows, r1 - r));
    pack_panel<L>(p, r, nvalid, panel);
    panel_sweep(panel, p.x, p.cols, p.m, p.y + r, p.rows, nvalid);
  }
}

size_t scratch_bytes(int, int64_t cols, int64_t) {
  return static_cast<size_t>(cols) * kPanelRows * sizeof(float);
}

const DenseKernelSet kAvx2Set = {
    "avx2",
    {gemv<LoadF32>, gemv<LoadF16>, gemv<LoadBF16>},
    {gemm<LoadF32>, gemm<LoadF16>, gemm<LoadBF16>},
    kPanelRows,
    scratch_bytes,
    nullptr,
    nullptr,
};

}  // namespace

const DenseKernelSet& dense_kernels_avx2() {
  return kAvx2Set;
}

}  // namespace insitu::kernels

// AVX2 quantized matmul for hosts without AVX-512: dequantize, then multiply in f32 with FMA.
// Weights are decoded by the AVX2 row dequantizers (quant_decode_avx2.h: bit-identical to the
// registry's reference dequantizers; vectorised for q4_0/q4_1/q5_0/q5_1/q8_0/q2k..q6k, the
// reference dequantizer for the other types), so the products are against the exact weights.
//   decode (m <= 4): 4 rows at a time are decoded in column segments of ~1024 (kSegCols) that
//     stay in L1 and are dotted with every activation row at once; 8-lane accumulators per
//     (activation, row) carry over the segments.
//   prefill (m > 4): a tile of kTileRows full rows is decoded once and multiplied with every
//     activation row (the decoding is amortised over m).
// f32 accumulation in 8 lanes per output: f32-grade error.
#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/quant_kernels.h"
#include "kernels/cpu/x86/avx2/quant_decode_avx2.h"

namespace insitu::kernels {
namespace {

constexpr int64_t kTileRows = 16;  // prefill tile
constexpr int64_t kGemvRows = 4;   // decode rows per pass
constexpr int64_t kGemvMaxM = 4;
constexpr int64_t kSegCols = 1024;  // decode column segment: 4 rows x 4 KiB f32

inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Block-aligned decode segment: whole blocks, about kSegCols columns.
int64_t seg_blocks(QuantType t) {
  return std::max<int64_t>(1, kSegCols / quant_info(t).block_size);
}

// ---- decode -----------------------------------------------------------------------------------

// acc[j] += x[0, n) . w[j * ws + (0, n)] lane-wise for R rows; n is a multiple of 8 (every
// block size is a multiple of 32).
template <int R>
inline void dot_seg(const float* x, const float* w, int64_t ws, int64_t n, __m256* acc) {
  __m256 a[R];
  for (int j = 0; j < R; ++j) a[j] = acc[j];
  for (int64_t c = 0; c < n; c += 8) {
    const __m256 xv = _mm256_loadu_ps(x + c);
    for (int j = 0; j < R; ++j) a[j] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w + j * ws + c), a[j]);
  }
  for (int j = 0; j < R; ++j) acc[j] = a[j];
}

void dot_seg_n(int nr, const float* x, const float* w, int64_t ws, int64_t n, __m256* acc) {
  switch (nr) {
    case 4: return dot_seg<4>(x, w, ws, n, acc);
    case 3: return dot_seg<3>(x, w, ws, n, acc);
    case 2: return dot_seg<2>(x, w, ws, n, acc);
    default: return dot_seg<1>(x, w, ws, n, acc);
  }
}

void gemv_rows(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  const avx2::DequantBlocksFn dequant = avx2::avx2_dequantizer(p.type);
  const int64_t block = quant_info(p.type).block_size;
  const int64_t K = p.cols, nblocks = K / block, sb_max = seg_blocks(p.type);
  const int64_t ws = sb_max * block;  // row stride of the segment buffer
  auto* seg = static_cast<float*>(scratch);
  __m256 acc[kGemvMaxM][kGemvRows];
  for (int64_t rt = r0; rt < r1; rt += kGemvRows) {
    const int nr = static_cast<int>(std::min(kGemvRows, r1 - rt));
    for (int64_t i = 0; i < p.m; ++i)
      for (int j = 0; j < nr; ++j) acc[i][j] = _mm256_setzero_ps();
    for (int64_t b0 = 0; b0 < nblocks; b0 += sb_max) {
      const int64_t nb = std::min(sb_max, nblocks - b0);
      for (int j = 0; j < nr; ++j)
        dequant(p.w + static_cast<size_t>(rt + j) * p.row_bytes, b0, nb, seg + j * ws);
      for (int64_t i = 0; i < p.m; ++i)
        dot_seg_n(nr, p.x + i * K + b0 * block, seg, ws, nb * block, acc[i]);
    }
    for (int64_t i = 0; i < p.m; ++i)
      for (int j = 0; j < nr; ++j) p.y[i * p.rows + rt + j] = hsum8(acc[i][j]);
  }
}

size_t gemv_scratch(QuantType t, int64_t, int64_t) {
  return static_cast<size_t>(kGemvRows * seg_blocks(t) * quant_info(t).block_size) *
         sizeof(float);
}

// ---- prefill ----------------------------------------------------------------------------------

// K is a multiple of 32 (every quantized block size is).
template <int R>
inline void dot_rows(const float* x, const float* w, int64_t K, float* out) {
  __m256 acc[R];
  for (int j = 0; j < R; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t c = 0; c < K; c += 8) {
    const __m256 xv = _mm256_loadu_ps(x + c);
    for (int j = 0; j < R; ++j) acc[j] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w + j * K + c), acc[j]);
  }
  for (int j = 0; j < R; ++j) out[j] = hsum8(acc[j]);
}

void gemm_rows(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  const avx2::DequantBlocksFn dequant = avx2::avx2_dequantizer(p.type);
  const int64_t K = p.cols, nblocks = K / quant_info(p.type).block_size;
  auto* tile = static_cast<float*>(scratch);
  for (int64_t rt = r0; rt < r1; rt += kTileRows) {
    const int64_t nr = std::min(kTileRows, r1 - rt);
    for (int64_t j = 0; j < nr; ++j)
      dequant(p.w + static_cast<size_t>(rt + j) * p.row_bytes, 0, nblocks, tile + j * K);
    for (int64_t i = 0; i < p.m; ++i) {
      const float* x = p.x + i * K;
      float* y = p.y + i * p.rows + rt;
      int64_t j = 0;
      for (; j + 4 <= nr; j += 4) dot_rows<4>(x, tile + j * K, K, y + j);
      for (; j < nr; ++j) dot_rows<1>(x, tile + j * K, K, y + j);
    }
  }
}

size_t gemm_scratch(QuantType, int64_t cols, int64_t) {
  return static_cast<size_t>(kTileRows) * cols * sizeof(float);
}

const QuantKernelSet kAvx2Set = {
    "avx2-dequantize-tile",  // decode tiles are 4 rows x kSegCols
    "avx2-dequantize-tile",
    kGemvMaxM,
    {gemv_rows, kGemvRows, gemv_scratch, nullptr, nullptr},
    {gemm_rows, kTileRows, gemm_scratch, nullptr, nullptr},
};

}  // namespace

const QuantKernelSet& quant_kernels_avx2() { return kAvx2Set; }

}  // namespace insitu::kernels

// AVX2 quantized matmul: the documented dequantize-tile fallback for hosts without AVX-512.
// A tile of kTileRows weight rows is dequantized by the registry's reference dequantizers
// (scalar, exact) and then multiplied with AVX2 FMA: 4 rows x 1 activation per pass in the
// decode path, and every activation row against the tile in prefill (the dequantization is
// amortised over m). f32 accumulation in 8 lanes x 4 rows: f32-grade error.
#include <immintrin.h>

#include "kernels/cpu/quant_kernels.h"

namespace insitu::kernels {
namespace {

constexpr int64_t kTileRows = 16;

inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

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

void rows_avx2(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  const QuantTypeInfo& info = quant_info(p.type);
  auto* tile = static_cast<float*>(scratch);
  const int64_t K = p.cols;
  for (int64_t rt = r0; rt < r1; rt += kTileRows) {
    const int64_t nr = r1 - rt < kTileRows ? r1 - rt : kTileRows;
    for (int64_t j = 0; j < nr; ++j)
      info.dequantize(p.w + static_cast<size_t>(rt + j) * p.row_bytes, tile + j * K, K);
    for (int64_t i = 0; i < p.m; ++i) {
      const float* x = p.x + i * K;
      float* y = p.y + i * p.rows + rt;
      int64_t j = 0;
      for (; j + 4 <= nr; j += 4) dot_rows<4>(x, tile + j * K, K, y + j);
      for (; j < nr; ++j) dot_rows<1>(x, tile + j * K, K, y + j);
    }
  }
}

size_t scratch_avx2(QuantType, int64_t cols, int64_t) {
  return static_cast<size_t>(kTileRows) * cols * sizeof(float);
}

const QuantKernelSet kAvx2Set = {
    "avx2-dequantize-tile",
    "avx2-dequantize-tile",
    4,
    {rows_avx2, kTileRows, scratch_avx2, nullptr, nullptr},
    {rows_avx2, kTileRows, scratch_avx2, nullptr, nullptr},
};

}  // namespace

const QuantKernelSet& quant_kernels_avx2() { return kAvx2Set; }

}  // namespace insitu::kernels

// Portable dense matmul kernels (no SIMD intrinsics): the fallback on hosts without AVX2 and
// the baseline the vector paths are measured against.
#include <algorithm>

#include "core/half.h"
#include "kernels/cpu/dense_kernels.h"

namespace insitu::kernels {
namespace {

constexpr int64_t kBlockRows = 8;     // weight rows converted together
constexpr int64_t kBlockCols = 256;   // columns per conversion chunk (stays in L1)

inline float load_weight(int type, const uint8_t* row, int64_t c) {
  switch (type) {
    case 0: return reinterpret_cast<const float*>(row)[c];
    case 1: return f16_to_f32(reinterpret_cast<const uint16_t*>(row)[c]);
    default: return bf16_to_f32(reinterpret_cast<const uint16_t*>(row)[c]);
  }
}

// Converts a block of rows x column-chunk to f32 once and reuses it for every activation row,
// accumulating partial sums in y. The type switch is per chunk element conversion, hoisted
// by the compiler out of the FMA loops.
void rows_scalar(const DenseProblem& p, int64_t r0, int64_t r1, void*) {
  float wbuf[kBlockRows * kBlockCols];
  for (int64_t rb = r0; rb < r1; rb += kBlockRows) {
    const int64_t nr = std::min(kBlockRows, r1 - rb);
    for (int64_t i = 0; i < p.m; ++i)
      for (int64_t j = 0; j < nr; ++j) p.y[i * p.rows + rb + j] = 0.f;
    for (int64_t c0 = 0; c0 < p.cols; c0 += kBlockCols) {
      const int64_t nc = std::min(kBlockCols, p.cols - c0);
      for (int64_t j = 0; j < nr; ++j) {
        const uint8_t* row = p.w + static_cast<size_t>(rb + j) * p.row_bytes;
        for (int64_t c = 0; c < nc; ++c) wbuf[j * kBlockCols + c] = load_weight(p.type, row, c0 + c);
      }
      for (int64_t i = 0; i < p.m; ++i) {
        const float* xi = p.x + i * p.cols + c0;
        for (int64_t j = 0; j < nr; ++j) {
          const float* wr = wbuf + j * kBlockCols;
          float acc[4] = {0.f, 0.f, 0.f, 0.f};
          int64_t c = 0;
          for (; c + 4 <= nc; c += 4)
            for (int u = 0; u < 4; ++u) acc[u] += xi[c + u] * wr[c + u];
          for (; c < nc; ++c) acc[0] += xi[c] * wr[c];
          p.y[i * p.rows + rb + j] += (acc[0] + acc[1]) + (acc[2] + acc[3]);
        }
      }
    }
  }
}

size_t no_scratch(int, int64_t, int64_t) { return 0; }

const DenseKernelSet kScalarSet = {
    "scalar",
    {rows_scalar, rows_scalar, rows_scalar},
    {rows_scalar, rows_scalar, rows_scalar},
    kBlockRows,
    no_scratch,
    nullptr,
    nullptr,
};

}  // namespace

const DenseKernelSet& dense_kernels_scalar() { return kScalarSet; }

}  // namespace insitu::kernels

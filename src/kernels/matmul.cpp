#include "kernels/matmul.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/half.h"

namespace insitu {

void dequantize_row(const WeightMatrix& w, int64_t r, float* out) {
  const uint8_t* row = w.data + static_cast<size_t>(r) * w.row_bytes();
  switch (w.type) {
    case QuantType::kF32:
      std::copy_n(reinterpret_cast<const float*>(row), w.cols, out);
      return;
    case QuantType::kF16: {
      auto* p = reinterpret_cast<const uint16_t*>(row);
      for (int64_t c = 0; c < w.cols; ++c) out[c] = f16_to_f32(p[c]);
      return;
    }
    case QuantType::kBF16: {
      auto* p = reinterpret_cast<const uint16_t*>(row);
      for (int64_t c = 0; c < w.cols; ++c) out[c] = bf16_to_f32(p[c]);
      return;
    }
    default:  // every other type: the registry's reference dequantizer
      insitu::dequantize_row(w.type, row, out, w.cols);
      return;
  }
}

void matmul_reference(const WeightMatrix& w, const float* x, int64_t m, float* y) {
  std::vector<float> row(w.cols);
  for (int64_t r = 0; r < w.rows; ++r) {
    dequantize_row(w, r, row.data());
    for (int64_t i = 0; i < m; ++i) {
      double acc = 0;
      const float* xi = x + i * w.cols;
      for (int64_t c = 0; c < w.cols; ++c) acc += static_cast<double>(xi[c]) * row[c];
      y[i * w.rows + r] = static_cast<float>(acc);
    }
  }
}

// Portable path: dequantize a tile of weight rows to f32, then dot with every activation row.
// The fast per-ISA paths live in kernels/cpu/x86/*; this one is the fallback and the baseline.
void matmul(const WeightMatrix& w, const float* x, int64_t m, float* y, ThreadPool& pool) {
  constexpr int64_t kTileRows = 16;
  pool.parallel_for(w.rows, kTileRows, [&](int64_t r0, int64_t r1, int) {
    std::vector<float> tile(kTileRows * w.cols);
    for (int64_t rt = r0; rt < r1; rt += kTileRows) {
      const int64_t nr = std::min(kTileRows, r1 - rt);
      for (int64_t j = 0; j < nr; ++j) dequantize_row(w, rt + j, tile.data() + j * w.cols);
      for (int64_t i = 0; i < m; ++i) {
        const float* xi = x + i * w.cols;
        for (int64_t j = 0; j < nr; ++j) {
          const float* wr = tile.data() + j * w.cols;
          float acc = 0.f;
          for (int64_t c = 0; c < w.cols; ++c) acc += xi[c] * wr[c];
          y[i * w.rows + rt + j] = acc;
        }
      }
    }
  });
}

}  // namespace insitu

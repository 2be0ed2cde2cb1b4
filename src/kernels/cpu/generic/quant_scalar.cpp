// Portable quantized matmul (x86-64 baseline, no AVX): each weight row is dequantized once by
// the registry's reference dequantizer and dotted with every activation row in double, so this
// path is as exact as matmul_reference. It is the correctness floor, not a fast path.
#include "kernels/cpu/quant_kernels.h"

namespace insitu::kernels {
namespace {

void rows_scalar(const QuantProblem& p, int64_t r0, int64_t r1, void* scratch) {
  const QuantTypeInfo& info = quant_info(p.type);
  auto* w = static_cast<float*>(scratch);
  const int64_t K = p.cols;
  for (int64_t r = r0; r < r1; ++r) {
    info.dequantize(p.w + static_cast<size_t>(r) * p.row_bytes, w, K);
    for (int64_t i = 0; i < p.m; ++i) {
      const float* x = p.x + i * K;
      double acc = 0;
      for (int64_t c = 0; c < K; ++c) acc += static_cast<double>(x[c]) * w[c];
      p.y[i * p.rows + r] = static_cast<float>(acc);
    }
  }
}

size_t scratch_scalar(QuantType, int64_t cols, int64_t) {
  return static_cast<size_t>(cols) * sizeof(float);
}

const QuantKernelSet kScalarSet = {
    "scalar",
    "scalar",
    4,
    {rows_scalar, 16, scratch_scalar, nullptr, nullptr, nullptr},
    {rows_scalar, 16, scratch_scalar, nullptr, nullptr, nullptr},
};

}  // namespace

const QuantKernelSet& quant_kernels_scalar() { return kScalarSet; }

}  // namespace insitu::kernels

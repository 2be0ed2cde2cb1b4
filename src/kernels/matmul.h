// Matrix products of weights (any registry type) with f32 activations.
//
// Convention: W is [rows = out_features, cols = in_features], row-major, exactly as a Hugging
// Face Linear weight. matmul computes y[m, rows] = x[m, cols] . W^T with f32 accumulation.
// m == 1 is decode (GEMV, bandwidth bound); m > 1 is prefill (GEMM, compute bound).
// Dispatch on W's type and the active ISA happens once per call, never per element.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/thread_pool.h"
#include "quant/registry.h"

namespace insitu {

// How a matrix's bytes are ordered.
enum class WeightLayout : uint8_t {
  kRows,       // row after row in the registry's row format
  kRowGroups,  // quant/layout/row_groups.h: 16 rows interleaved (rows a multiple of 16)
};

struct WeightMatrix {
  QuantType type = QuantType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  const uint8_t* data = nullptr;  // rows * quant_row_bytes(type, cols) bytes
  WeightLayout layout = WeightLayout::kRows;
  size_t row_bytes() const { return quant_row_bytes(type, cols); }
};

// y[i, r] = sum_c x[i, c] * W[r, c] for i < m, r < rows. x and y are dense row-major.
// Dense types (f32/f16/bf16) run per-ISA kernels: m <= 4 streams each weight row once (GEMV);
// larger m uses a blocked GEMM (AMX-BF16 with activations split into bf16 hi + lo when the
// host has AMX, else f32 FMA). Output rows are split evenly over `pool`. W is read in place:
// no packed copy is kept; per-call staging buffers are thread-local to this library and reused
// across calls. Accuracy: relative error vs matmul_reference ~1e-6 (AMX: < 1e-5 relative L2).
// Quantized types run the kernels of matmul_quant.h: f32-grade under MatmulPrecision::kExact;
// under the default kAuto, types below 7 bits per weight and fp8/f8q8 round activations
// (kernels/matmul_precision.h).
void matmul(const WeightMatrix& w, const float* x, int64_t m, float* y, ThreadPool& pool);

// ys[i][m, rows_i] = x[m, cols] . W_i^T for matrices that read the same x (a layer's q, k and
// v; gate and up), bit for bit what matmul() gives each. Consecutive quantized matrices of one
// type and layout run as one pass over all their rows (matmul_quantized_group): one activation
// conversion, and no wait between matrices, which decode's small matrices (0.5-2 MB, 30-110 us
// a call) felt as ramp-up and tail time. Others run one matmul() each.
void matmul_group(std::span<const WeightMatrix* const> ws, const float* x, int64_t m,
                  std::span<float* const> ys, ThreadPool& pool);

// Reference path used by tests: scalar, single-threaded, double-free of any ISA.
void matmul_reference(const WeightMatrix& w, const float* x, int64_t m, float* y);

// Name of the kernel family matmul() would use for `type` and batch size m at the current
// active_isa() ("scalar", "avx2", "avx512", "amx", "dequantize"), for logs and benchmarks.
const char* matmul_kernel_name(QuantType type, int64_t m);

// Converts row r of W to f32 (embedding lookup, tests), whatever its layout.
void dequantize_row(const WeightMatrix& w, int64_t r, float* out);

// The layout matmul() decodes `type` fastest in at the current active_isa() for a matrix of
// `rows` x `cols`: kRowGroups where the decode kernels have a row-group path (and rows is a
// multiple of 16), else kRows. INSITU_ROW_GROUPS=0 in the environment forces kRows (A/B runs).
WeightLayout preferred_weight_layout(QuantType type, int64_t rows, int64_t cols);

}  // namespace insitu
